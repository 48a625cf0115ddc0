/** The admin key of the integration-test deployment (globalSetup sets ADMIN_KEY_SHA256 from it). */
export const TEST_ADMIN_KEY = 'adm_integration-test-admin-key-0123456789';
