// What a signed-in holder shows before a weighty change (a new email, deleting the account): the
// password again, and the second factor's code when it is on. A stolen session alone is not enough.
import type { Account } from '../../storage/schema.js';
import type { SecondFactorCode } from '../second-factor/codes.js';
import type { SecondFactorService } from '../second-factor/second-factor.service.js';
import type { RequestContext } from '../sessions.service.js';

export interface HolderProof {
  prove(accountId: string, password: string, code: SecondFactorCode | null, ctx: RequestContext): Promise<Account>;
}

export function holderProof(d: {
  passwords: { verifyCurrentPassword(accountId: string, password: string, ctx: RequestContext): Promise<Account> };
  secondFactor: Pick<SecondFactorService, 'require'>;
}): HolderProof {
  return {
    async prove(accountId, password, code, ctx) {
      const account = await d.passwords.verifyCurrentPassword(accountId, password, ctx);
      await d.secondFactor.require(account, code, ctx);
      return account;
    },
  };
}
