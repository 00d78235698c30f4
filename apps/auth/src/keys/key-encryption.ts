import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals secrets at rest with AES-256-GCM under AUTH_KEY_ENCRYPTION_KEY. A sealed value is
 * `iv (12) ‖ tag (16) ‖ ciphertext`; `context` (e.g. the key id) is bound as associated data, so a
 * sealed value copied onto another row does not open.
 */
export class KeyEncryption {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('AUTH_KEY_ENCRYPTION_KEY must be 32 bytes');
  }

  seal(plaintext: Buffer, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
  }

  /** Opens a sealed value; throws, naming the likely cause, when the key or the context is wrong. */
  open(sealed: Buffer, context: string): Buffer {
    try {
      const iv = sealed.subarray(0, IV_BYTES);
      const tag = sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      decipher.setAAD(Buffer.from(context, 'utf8'));
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch (error) {
      throw new Error(
        `cannot decrypt ${context} with AUTH_KEY_ENCRYPTION_KEY: it is not the key the value was encrypted with, or the stored value was altered`,
        { cause: error },
      );
    }
  }
}
