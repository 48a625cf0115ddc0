/**
 * The bench's own environment, imported first by bench/run.ts: the modules it imports create their logger and
 * SDK clients at load, so these must be set before any of them loads.
 */
// The SDK warns that it will want Node 22 from 2027; Node 20 runs it fine today.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The handlers log every beacon and property at INFO; the bench prints figures, not their logs.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
