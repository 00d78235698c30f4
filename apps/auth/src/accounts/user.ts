/** An account as the auth service reads it. */
export interface User {
  id: string;
  /** Normalised: trimmed and lower-cased. */
  email: string;
  displayName: string;
  roles: string[];
  createdAt: Date;
}

export interface NewUser {
  email: string;
  displayName: string;
}
