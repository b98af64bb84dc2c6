// passport-http-bearer ships no type declarations; this is the part Meridian uses.
declare module 'passport-http-bearer' {
  import type { Strategy as PassportStrategy } from 'passport';

  export interface IStrategyOptions {
    realm?: string;
    scope?: string | string[];
    passReqToCallback?: false;
  }
  export type VerifyFunction = (token: string, done: (err: unknown, user?: unknown, info?: string | { message?: string }) => void) => void;

  export class Strategy implements PassportStrategy {
    constructor(verify: VerifyFunction);
    constructor(options: IStrategyOptions, verify: VerifyFunction);
    name: string;
    authenticate(req: unknown, options?: unknown): void;
  }
}
