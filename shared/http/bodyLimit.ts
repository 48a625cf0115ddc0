/** Largest accepted body (../API.md: 32 KiB, else 413). Apart from apiHandler so docs need not load middy. */
export const MAX_BODY_BYTES = 32 * 1024;
