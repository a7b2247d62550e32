// Errors that reach an operator carry a stable code, whether retrying can help, and what to do about it
// (after kafkajs' errors.js: the retry policy and the message come from the error itself).

export interface TracelakeErrorOptions {
  code: string;
  remedy: string;
  retriable?: boolean;
  cause?: unknown;
}

export class TracelakeError extends Error {
  readonly code: string;
  readonly remedy: string;
  readonly retriable: boolean;
  constructor(message: string, opts: TracelakeErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TracelakeError';
    this.code = opts.code;
    this.remedy = opts.remedy;
    this.retriable = opts.retriable ?? false;
  }
}
