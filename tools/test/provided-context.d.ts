// Values the Vitest global setup (tools/test/global-setup.ts) provides to every test project.
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL server URL (any database on it); tests create their own databases. */
    postgresServerUrl: string;
    /** A directory with a folder per service identity (tls.crt, tls.key, ca.crt) from this run's local CA. */
    grpcTlsRoot: string;
  }
}
