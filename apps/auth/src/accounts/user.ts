/** An account as the auth service reads it. */
export interface User {
  id: string;
  /** Normalised: trimmed and lower-cased. */
  email: string;
  displayName: string;
  roles: string[];
  /** Bumped with every role change; access tokens carry it (claim `rv`) so stale ones can be refused. */
  rolesVersion: number;
  createdAt: Date;
}

export interface NewUser {
  email: string;
  displayName: string;
}
