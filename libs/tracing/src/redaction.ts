export interface RedactionOptions {
  /** Also hide client network addresses (IPv4 and IPv6 values, and fields named like one). */
  clientAddress: boolean;
}

export const REDACTED = '[redacted]';

// Field names whose whole value is secret or personal, compared lower case without separators
// (`refresh_token`, `refreshToken` and `x-refresh-token` alike).
const SECRET_NAME = /password|passwd|secret|token|authorization|cookie|email|apikey|secwebsocketprotocol|credential/;
const ADDRESS_NAME =
  /^(ip|clientip|clientaddress|remoteaddress|remoteaddr|peeraddress|peerip|xforwardedfor|xrealip|forwarded|networkpeeraddress|netpeerip|netsockpeeraddr|httpclientip)$/;

// Secrets inside free text (messages, URLs, error messages), most specific first.
const SECRET_TEXT: readonly [RegExp, string][] = [
  // An access token: a JWT, wherever it appears.
  [/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, REDACTED],
  // `Authorization: Bearer <token>` and the WebSocket subprotocol `bearer.<token>`.
  [/\b(bearer)([ .]+)[^\s,;"']+/gi, `$1$2${REDACTED}`],
  // `password=…`, `token: …`, `refresh_token=…` in messages and query strings; `Cookie: a=b; c=d`.
  [/\b(cookie|set-cookie)(\s*[:=]\s*)[^\r\n"]+/gi, `$1$2${REDACTED}`],
  [/\b([\w-]*(?:password|passwd|secret|token|api[_-]?key))(\s*[:=]\s*|"\s*:\s*")("[^"]*"|[^\s&,;"]+)/gi, `$1$2${REDACTED}`],
  // E-mail addresses, also percent-encoded in a URL.
  [/[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, REDACTED],
];

// An opaque token (auth's refresh tokens are 43 characters of base64url): long, and mixing upper
// case, lower case and digits, which hex ids, UUIDs and content hashes never do.
const OPAQUE_CANDIDATE = /[A-Za-z0-9_-]{40,}/g;
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
// Three colons at least, or `::`: clock times (`13:49:32`) have two.
const IPV6 = /(?:\b[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){3,7}\b|::(?:ffff:)?[0-9A-Fa-f.:]*[0-9A-Fa-f])/g;

function hidesOpaque(match: string): string {
  return /[A-Z]/.test(match) && /[a-z]/.test(match) && /\d/.test(match) ? REDACTED : match;
}

/**
 * The one list of what never reaches a log line or an exported span: passwords, access and
 * refresh tokens (JWTs, `Bearer …`, the `bearer.…` WebSocket subprotocol, long opaque tokens),
 * cookies, e-mail addresses and, when configured, client addresses. A field named like a secret
 * (`password`, `refresh_token`, `authorization`, `cookie`, `email`…) loses its whole value; any
 * other text has the secrets it contains replaced.
 */
export class Redactor {
  constructor(private readonly options: RedactionOptions) {}

  /** True when a field of this name holds nothing that may be shown. */
  hidesField(name: string): boolean {
    const key = name.toLowerCase().replace(/[^a-z0-9]/g, '');
    return SECRET_NAME.test(key) || (this.options.clientAddress && ADDRESS_NAME.test(key));
  }

  /** `text` with every secret it contains replaced. */
  text(text: string): string {
    let out = text;
    for (const [pattern, replacement] of SECRET_TEXT) out = out.replace(pattern, replacement);
    out = out.replace(OPAQUE_CANDIDATE, hidesOpaque);
    if (this.options.clientAddress) out = out.replace(IPV4, REDACTED).replace(IPV6, REDACTED);
    return out;
  }

  /** The value to show for field `name`: hidden entirely, its text redacted, or as it is. */
  field(name: string, value: unknown): unknown {
    if (this.hidesField(name)) return value === undefined || value === null ? value : REDACTED;
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((item: unknown) => (typeof item === 'string' ? this.text(item) : item));
    return value;
  }
}
