import { describe, expect, it } from 'vitest';
import { ConnectionRegistry, type Registered } from './connection-registry.js';

const from = (address: string): Registered => ({ address });

describe('ConnectionRegistry', () => {
  it('refuses a connection past the cap of its address, and takes one again once another left', () => {
    const registry = new ConnectionRegistry({ perUser: 10, perAddress: 2 });
    const [a, b, c] = [from('10.0.0.1'), from('10.0.0.1'), from('10.0.0.1')];
    expect([registry.add(a), registry.add(b), registry.add(c)]).toEqual([true, true, false]);
    expect(registry.add(from('10.0.0.2'))).toBe(true);
    expect(registry.addressFull('10.0.0.1')).toBe(true);
    registry.remove(a);
    registry.remove(a); // a second close of the same connection frees nothing more
    expect(registry.add(c)).toBe(true);
    expect(registry.add(from('10.0.0.1'))).toBe(false);
    expect(registry.size).toBe(3);
  });

  it("caps a user's connections whatever their addresses, and lists them by user", () => {
    const registry = new ConnectionRegistry({ perUser: 2, perAddress: 10 });
    const [phone, laptop, tab] = [from('10.0.0.1'), from('10.0.0.2'), from('10.0.0.3')];
    for (const c of [phone, laptop, tab]) registry.add(c);
    expect(registry.bindUser(phone, 'ann')).toBe(true);
    expect(registry.bindUser(phone, 'ann')).toBe(true); // renewing the token of the same user
    expect(registry.bindUser(laptop, 'ann')).toBe(true);
    expect(registry.bindUser(tab, 'ann')).toBe(false);
    expect(registry.userFull('ann')).toBe(true);
    expect(registry.bindUser(tab, 'bob')).toBe(true);
    expect([...registry.ofUser('ann')]).toEqual([phone, laptop]);

    registry.remove(phone);
    expect([...registry.ofUser('ann')]).toEqual([laptop]);
    expect(registry.bindUser(from('10.0.0.4'), 'ann')).toBe(false); // never added: not bound
    registry.remove(laptop);
    expect(registry.ofUser('ann').size).toBe(0);
    expect(registry.userFull('ann')).toBe(false);
  });
});
