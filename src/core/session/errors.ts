/**
 * The one error a session file can produce when it is read: the file is not a session file,
 * is damaged, is too new, or says something invalid. The message names what and where, for
 * example `header.inputs[2].spec.seed: expected an integer from 0 to 4294967295, got 1.5`.
 */
export class SessionFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionFormatError';
  }
}
