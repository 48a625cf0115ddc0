export type { ClickTokenCheck, ClickTokenPayload, IssueClickTokenInput, IssuedClickToken } from './clickToken';
export { issueClickToken, verifyClickToken } from './clickToken';
