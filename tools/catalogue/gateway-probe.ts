// Queries a running suite's catalogue through the gateway, the way the checker does, and checks
// the answers (not their speed):
//   npx node tools/catalogue/gateway-probe.ts [--api http://127.0.0.1:8080] [--deep-pages 60]
// Registers a listener, reads the vocabulary, then: a page per genre (every track has the genre, in
// popularity order); deep paging by cursor through a common and the rarest genre (no track twice, order
// kept); three-filter combinations, common and rare, followed by cursor while pages come back partial
// (every track matches all three; at most 100 requests to 20 tracks or the end); genre + BPM and
// year ranges; text in English, Chinese and Japanese, a prefix and a misspelling; the sorts; facet
// counts; batch get with a missing id; artist and album pages; and malformed requests, each of which
// must get a 400 with the error body. Prints a line per failed check, then per group of requests the
// count, statuses and latency (p50 / p95 / max ms: what one client saw, not a benchmark), and exits 1
// if a check failed or any answer was a 5xx. Needs a catalogue from tools/catalogue/generate.ts (its
// genres and words) behind the gateway: `npm start`, or the suite on the benchmark's database.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { SearchView, TrackView } from '@overture/gateway-contract';

const { values } = parseArgs({
  options: { api: { type: 'string', default: 'http://127.0.0.1:8080' }, 'deep-pages': { type: 'string', default: '60' } },
});
const API = values.api;
const DEEP_PAGES = Number(values['deep-pages']);

// The gateway's own response types (type-only imports: nothing of the gateway runs here).
type Track = TrackView;
type Page = SearchView;
interface Answer<T> {
  status: number;
  body: T;
}

const failures: string[] = [];
const check = (ok: boolean, what: string): void => {
  if (!ok) failures.push(what);
};
const timings = new Map<string, { ms: number[]; statuses: Map<number, number> }>();
let token = '';

async function call<T>(group: string, method: string, pathAndQuery: string, body?: unknown): Promise<Answer<T>> {
  const started = performance.now();
  const response = await fetch(`${API}${pathAndQuery}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  const entry = timings.get(group) ?? { ms: [] as number[], statuses: new Map<number, number>() };
  entry.ms.push(performance.now() - started);
  entry.statuses.set(response.status, (entry.statuses.get(response.status) ?? 0) + 1);
  timings.set(group, entry);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    check(false, `${method} ${pathAndQuery}: body is not JSON (${response.status}): ${text.slice(0, 120)}`);
  }
  return { status: response.status, body: parsed as T };
}

const search = (group: string, query: Record<string, string | number>): Promise<Answer<Page>> =>
  call<Page>(group, 'GET', `/v1/search?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`);

/** The page answered 200, and each track passes `matches`, in popularity order (the default sort without text). */
function checkPage(answer: Answer<Page>, what: string, matches: (t: Track) => boolean, ordered = true): Track[] {
  if (answer.status !== 200) {
    check(false, `${what}: status ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
    return [];
  }
  const { tracks } = answer.body;
  for (const t of tracks) check(matches(t), `${what}: track ${t.id} does not match (${JSON.stringify(t.attributes)})`);
  if (ordered)
    for (let i = 1; i < tracks.length; i++)
      check(tracks[i - 1].popularity >= tracks[i].popularity, `${what}: not in popularity order at ${i}`);
  return tracks;
}

/** Follows next_cursor for up to `pages` pages: no track twice, order kept across pages. */
async function deepPages(
  group: string,
  query: Record<string, string | number>,
  pages: number,
  matches: (t: Track) => boolean,
): Promise<{ pages: number; tracks: number; partial: number }> {
  const seen = new Set<string>();
  let cursor: string | null = null;
  let last = Infinity;
  let n = 0;
  let partial = 0;
  while (n < pages) {
    const answer = await search(group, { ...query, ...(cursor ? { cursor } : {}) });
    n++;
    const tracks = checkPage(answer, `${group} page ${n}`, matches);
    if (answer.status !== 200) break;
    if (answer.body.partial) partial++;
    for (const t of tracks) {
      check(!seen.has(t.id), `${group}: track ${t.id} came twice (page ${n})`);
      seen.add(t.id);
      check(t.popularity <= last, `${group}: popularity rose across pages at page ${n}`);
      last = t.popularity;
    }
    cursor = answer.body.next_cursor;
    if (!cursor) break;
  }
  return { pages: n, tracks: seen.size, partial };
}

const pick = <T>(items: readonly T[], i: number): T => items[i % items.length];

// An account and a token.
const email = `probe-${randomUUID()}@example.com`;
const password = 'probe password 12345';
check((await call('auth', 'POST', '/v1/auth/register', { email, password, display_name: 'Probe' })).status === 201, 'register: not 201');
const issued = await call<{ access_token: string }>('auth', 'POST', '/v1/auth/token', { grant_type: 'password', email, password });
token = issued.body.access_token;
if (!token) throw new Error(`no token: ${JSON.stringify(issued.body)}`);

// The vocabulary.
const attributes = await call<{ attributes: { name: string; values: string[] }[] }>('attributes', 'GET', '/v1/attributes');
const vocabulary = (name: string): string[] => attributes.body.attributes.find((a) => a.name === name)?.values ?? [];
const genres = vocabulary('genres');
const moods = vocabulary('moods');
const languages = vocabulary('language');
check(
  genres.length > 10 && moods.length > 5 && languages.length > 5,
  `attributes: vocabulary too small (${genres.length} genres, ${moods.length} moods, ${languages.length} languages)`,
);

// A page per genre; which genre is most and least common, from its facet count.
const genreCounts = new Map<string, number>();
for (const genre of genres) {
  const answer = await search('one genre', { genre, limit: 20, facets: 'genre' });
  checkPage(answer, `genre=${genre}`, (t) => t.attributes.genres.includes(genre));
  const count = answer.body.facets?.find((f) => f.name === 'genre')?.values.find((v) => v.value === genre)?.count ?? 0;
  genreCounts.set(genre, count);
}
const byCount = [...genreCounts].filter(([, c]) => c > 0).sort((a, b) => b[1] - a[1]);
const [common, rare] = [byCount[0][0], byCount[byCount.length - 1][0]];

// Deep pages, by cursor.
const deepCommon = await deepPages('deep pages, common genre', { genre: common, limit: 50 }, DEEP_PAGES, (t) =>
  t.attributes.genres.includes(common),
);
const deepRare = await deepPages('deep pages, rarest genre', { genre: rare, limit: 50 }, DEEP_PAGES, (t) =>
  t.attributes.genres.includes(rare),
);

// Three filters, common and rare combinations, each followed by cursor (as a client UI would, while
// pages come back partial) until 20 tracks, the end, or 100 requests.
let threeEmpty = 0;
let threeFollowUps = 0;
let threeMostRequests = 0;
for (let i = 0; i < 40; i++) {
  const [genre, mood, language] = [pick(genres, i * 7), pick(moods, i * 3), pick(languages, i * 5)];
  const matches = (t: Track): boolean =>
    t.attributes.genres.includes(genre) && t.attributes.moods.includes(mood) && t.attributes.language === language;
  let cursor: string | null = null;
  let requests = 0;
  let found = 0;
  let partial = false;
  do {
    const answer = await search(requests === 0 ? 'three filters' : 'three filters, follow-ups', {
      genre,
      mood,
      language,
      limit: 20,
      ...(cursor ? { cursor } : {}),
    });
    found += checkPage(answer, `genre=${genre}&mood=${mood}&language=${language} request ${requests + 1}`, matches).length;
    requests++;
    if (answer.status !== 200) break;
    ({ partial } = answer.body);
    cursor = answer.body.next_cursor;
  } while (partial && cursor && found < 20 && requests < 100);
  check(!partial || found >= 20 || !cursor, `genre=${genre}&mood=${mood}&language=${language}: still partial after ${requests} requests`);
  if (found === 0) threeEmpty++;
  if (requests > 1) threeFollowUps++;
  threeMostRequests = Math.max(threeMostRequests, requests);
}

// Ranges.
for (let i = 0; i < 20; i++) {
  const genre = pick(genres, i * 5);
  const min = 60 + ((i * 13) % 120);
  const answer = await search('genre + BPM range', { genre, min_bpm: min, max_bpm: min + 20, limit: 20 });
  checkPage(
    answer,
    `genre=${genre}&bpm ${min}-${min + 20}`,
    (t) => t.attributes.genres.includes(genre) && t.attributes.bpm >= min && t.attributes.bpm <= min + 20,
  );
  const years = await search('genre + year range', { genre, min_year: 1990 + (i % 20), max_year: 1995 + (i % 20), limit: 20 });
  checkPage(years, `genre=${genre}&years`, (t) => t.release_year >= 1990 + (i % 20) && t.release_year <= 1995 + (i % 20));
}

// Text: whole words, CJK, a prefix, a misspelling, with a filter; relevance order is the service's own.
const has = (t: Track, word: string): boolean => `${t.title} ${t.artist_name} ${t.album_title}`.toLowerCase().includes(word.toLowerCase());
for (const word of ['midnight', 'river', 'amour', '夜空', '月光', '東京', '桜']) {
  const answer = await search('text', { q: word, limit: 20 });
  const tracks = checkPage(answer, `q=${word}`, (t) => has(t, word), false);
  check(tracks.length > 0, `q=${word}: no tracks`);
}
const prefix = await search('text', { q: 'midn', limit: 20 });
check(
  checkPage(prefix, 'q=midn (prefix)', (t) => /\bmidn/i.test(`${t.title} ${t.artist_name} ${t.album_title}`), false).length > 0,
  'q=midn: no tracks',
);
const fuzzy = await search('text', { q: 'midnigth', limit: 20 });
check(
  checkPage(fuzzy, 'q=midnigth (misspelt)', () => true, false).some((t) => has(t, 'midnight')),
  'q=midnigth: no track with "midnight"',
);
const textFacet = await search('text + filter', { q: '夜空', language: 'zh', limit: 20 });
checkPage(textFacet, 'q=夜空&language=zh', (t) => has(t, '夜空') && t.attributes.language === 'zh', false);

// Sorts.
const byDate = await search('sorts', { genre: common, sort: 'release_date', limit: 50 });
const dates = checkPage(byDate, 'sort=release_date', () => true, false).map((t) => t.release_date ?? '');
check(
  dates.every((d, i) => i === 0 || dates[i - 1] >= d),
  'sort=release_date: not newest first',
);
const byPopularity = await search('sorts', { q: 'river', sort: 'popularity', limit: 50 });
checkPage(byPopularity, 'q=river&sort=popularity', (t) => has(t, 'river'));

// Facet counts.
const facets = await search('facets', { genre: common, facets: 'mood,language,bpm', limit: 1 });
check(
  facets.status === 200 && ['mood', 'language', 'bpm'].every((n) => facets.body.facets.some((f) => f.name === n && f.values.length > 0)),
  `facets: ${JSON.stringify(facets.body).slice(0, 200)}`,
);

// Batch get (order kept, missing reported), artist and album pages.
const some = (await search('batch, artist, album', { genre: common, limit: 3 })).body.tracks;
const missing = randomUUID();
const ids = [some[2].id, missing, some[0].id];
const batch = await call<{ tracks: Track[]; missing_ids: string[] }>('batch, artist, album', 'GET', `/v1/tracks?ids=${ids.join(',')}`);
check(
  batch.status === 200 &&
    batch.body.tracks.map((t) => t.id).join() === [some[2].id, some[0].id].join() &&
    batch.body.missing_ids.includes(missing),
  `batch get: ${JSON.stringify(batch.body).slice(0, 200)}`,
);
const artist = await call<{ name: string; tracks: Track[] }>('batch, artist, album', 'GET', `/v1/artists/${some[0].artist_id}`);
check(artist.status === 200 && artist.body.name === some[0].artist_name && artist.body.tracks.length > 0, `artist page: ${artist.status}`);
const album = await call<{ tracks: Track[] }>('batch, artist, album', 'GET', `/v1/albums/${some[0].album_id}`);
check(album.status === 200 && album.body.tracks.some((t) => t.id === some[0].id), `album page: ${album.status}`);

// Malformed requests: each a 400 with the error body, naming the problem.
const malformed = [
  'genre=not-a-genre',
  'genre=ROCK',
  'mood=%27%3B%20DROP%20TABLE%20tracks%3B--',
  "q=%27%20OR%201%3D1--&genre=rock'",
  'language=english',
  'min_bpm=fast',
  'min_bpm=500',
  'min_bpm=140&max_bpm=100',
  'min_energy=2',
  'limit=1000',
  'limit=-1',
  'limit=2.5',
  'cursor=forged',
  `cursor=${'A'.repeat(150)}`,
  `cursor=${Buffer.from('{"k":1,"d":2}').toString('base64url')}`,
  'offset=100',
  'colour=blue',
  'sort=random',
  'facets=everything',
  'explicit=maybe',
  `q=${'x'.repeat(201)}`,
  'genres=rock,pop,jazz,blues,soul,funk',
];
for (const query of malformed) {
  const answer = await call<{ error?: { status: number; reason: string; message: string } }>('malformed', 'GET', `/v1/search?${query}`);
  check(
    answer.status === 400 && answer.body.error?.status === 400 && Boolean(answer.body.error.message),
    `malformed ${query}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 160)}`,
  );
}
for (const path of [
  '/v1/tracks/not-a-uuid',
  '/v1/tracks?ids=',
  `/v1/tracks?ids=${Array.from({ length: 101 }, () => randomUUID()).join(',')}`,
  '/v1/artists/123',
  '/v1/albums/x%27',
]) {
  const answer = await call<{ error?: { message: string } }>('malformed', 'GET', path);
  check(answer.status === 400 && Boolean(answer.body.error?.message), `malformed ${path.slice(0, 60)}: ${answer.status}`);
}
const unknown = await call('malformed', 'GET', `/v1/tracks/${randomUUID()}`);
check(unknown.status === 404, `unknown track: ${unknown.status}`);

// Report.
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
let serverErrors = 0;
process.stdout.write(`common genre ${common} (${genreCounts.get(common)} tracks), rarest ${rare} (${genreCounts.get(rare)})\n`);
process.stdout.write(
  `deep pages: ${common} ${deepCommon.pages} pages, ${deepCommon.tracks} tracks, ${deepCommon.partial} partial; ${rare} ${deepRare.pages} pages, ${deepRare.tracks} tracks, ${deepRare.partial} partial\n`,
);
process.stdout.write(
  `three filters: of 40 combinations, ${threeFollowUps} needed follow-ups (at most ${threeMostRequests} requests), ${threeEmpty} have no track\n`,
);
for (const [group, { ms, statuses }] of timings) {
  const sorted = [...ms].sort((a, b) => a - b);
  for (const [status, n] of statuses) if (status >= 500) serverErrors += n;
  const st = [...statuses].map(([s, n]) => `${s}×${n}`).join(' ');
  process.stdout.write(
    `${group.padEnd(26)} ${String(ms.length).padStart(4)} requests  ${st.padEnd(14)} ${pct(sorted, 0.5).toFixed(1)} / ${pct(sorted, 0.95).toFixed(1)} / ${sorted[sorted.length - 1].toFixed(1)} ms\n`,
  );
}
for (const failure of failures) process.stdout.write(`FAIL ${failure}\n`);
process.stdout.write(`${failures.length} failed checks, ${serverErrors} answers 5xx\n`);
process.exit(failures.length > 0 || serverErrors > 0 ? 1 : 0);
