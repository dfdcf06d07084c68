/**
 * What `pairs create` and `setup` stop on before changing anything: input they refuse
 * (exit 2: an unknown group, a subnet EC2 does not know here, a filter tags cannot
 * satisfy, an invalid NodeID), and what they find in AWS and cannot fix (exit 1: a
 * group that does not exist, a hook aimed at another topic).
 */
import { PairkeeperError } from '../errors.ts';

export class SetupInputError extends PairkeeperError {
  constructor(message: string) {
    super('PK_SETUP_INPUT', message);
  }
}

export class SetupBlockedError extends PairkeeperError {
  constructor(message: string) {
    super('PK_SETUP_BLOCKED', message);
  }
}
