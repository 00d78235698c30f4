const ISRC = /^[A-Z]{2}[A-Z0-9]{3}\d{7}$/;
const EMPTY = 0;

/** 0–35 for A–Z then 0–9. */
function alnum(code: number): number {
  return code >= 65 ? code - 65 : code - 48 + 26;
}

/**
 * A set of ISRCs held as numbers in one Float64Array (open addressing, linear probing), not as
 * strings in a Set: a bulk load remembers every ISRC it has appended, and at 10M tracks a
 * Set<string> was ~600 MB of small objects that every major garbage collection had to mark. An ISRC
 * (2 letters, 3 letters or digits, 7 digits) is a number below 2^49, exact in a double.
 */
export class IsrcSet {
  private slots = new Float64Array(1 << 20);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds the ISRC; returns false when it was already there. */
  add(isrc: string): boolean {
    const key = encode(isrc);
    if (this.count * 2 >= this.slots.length) this.grow();
    if (!insert(this.slots, key)) return false;
    this.count++;
    return true;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2);
    for (const key of old) if (key !== EMPTY) insert(this.slots, key);
  }
}

/** The ISRC as a number ≥ 1 (0 marks an empty slot). */
function encode(isrc: string): number {
  if (!ISRC.test(isrc)) throw new Error(`not an ISRC: ${JSON.stringify(isrc)}`);
  let value = (isrc.charCodeAt(0) - 65) * 26 + (isrc.charCodeAt(1) - 65);
  for (let i = 2; i < 5; i++) value = value * 36 + alnum(isrc.charCodeAt(i));
  return value * 1e7 + Number(isrc.slice(5)) + 1;
}

function hash(key: number): number {
  const lo = key >>> 0;
  const hi = Math.floor(key / 2 ** 32);
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 0;
}

function insert(slots: Float64Array, key: number): boolean {
  const mask = slots.length - 1;
  for (let i = hash(key) & mask; ; i = (i + 1) & mask) {
    const slot = slots[i];
    if (slot === key) return false;
    if (slot === EMPTY) {
      slots[i] = key;
      return true;
    }
  }
}
