import { CreatePlayback1763827200000 } from './1763827200000-create-playback.js';

/** Every migration, oldest first. Append only: a migration that has landed is never edited. */
export const migrations = [CreatePlayback1763827200000];
