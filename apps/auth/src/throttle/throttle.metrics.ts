import { counter } from '@overture/metrics';

/** Sign-in (and registration) attempts refused by a throttle, by the refusing limit's scope. */
export const throttled = counter({
  name: 'overture_signin_throttled_total',
  help: 'Sign-in and registration attempts refused by a throttle, by scope (account_address, account, address, registration_address).',
  labelNames: ['scope'],
});
