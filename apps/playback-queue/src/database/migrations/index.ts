import { CreatePlayback1763827200000 } from './1763827200000-create-playback.js';
import { QueueEditingDevices1763913600000 } from './1763913600000-queue-editing-devices.js';
import { OutboxRefusals1795300000000 } from './1795300000000-outbox-refusals.js';
import { OutboxTraceContext1796000000000 } from './1796000000000-outbox-trace-context.js';
import { IdempotencyKeys1796500000000 } from './1796500000000-idempotency-keys.js';

/** Every migration, oldest first. Append only: a migration that has landed is never edited. */
export const migrations = [
  CreatePlayback1763827200000,
  QueueEditingDevices1763913600000,
  OutboxRefusals1795300000000,
  OutboxTraceContext1796000000000,
  IdempotencyKeys1796500000000,
];
