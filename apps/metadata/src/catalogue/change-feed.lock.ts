/** Advisory lock every writer of the change feed holds from its insert to its commit. */
export const CHANGE_FEED_LOCK = 7_302_417;
