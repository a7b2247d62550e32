// The running local stack's endpoints (shared with scripts/demo.ts).
export { stack, uniqueName, type StackEnv } from '../../scripts/stack/stack-env.ts';
