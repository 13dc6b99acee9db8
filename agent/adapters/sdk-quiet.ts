/**
 * Imported first by main.ts, before anything can load the AWS SDK. On Node 20 the SDK prints an
 * 8-line NodeVersionSupportWarning from every process that creates a client (every command, every
 * run): noise an operator can do nothing about in the middle of their output. Node 20 is supported
 * here (package.json engines); images get Node 22/24 (ami/ensure-node.sh --min 22.0). An operator
 * who wants the warning back sets the variable to anything else.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
