/** Stops the emulators globalSetup started (jest runs both in the same process). */
export default async function globalTeardown(): Promise<void> {
  const emulators = globalThis.clicksieveEmulators;
  globalThis.clicksieveEmulators = undefined;
  await emulators?.stop();
}
