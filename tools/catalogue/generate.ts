// Synthetic catalogue generator: `npx node tools/catalogue/generate.ts --count 1000000 --out catalogue.jsonl [--seed 7]`
// (a .csv out file writes CSV with the columns `main.js import` reads). Deterministic for a seed: track i
// always gets the same ISRC and data, so re-imports are idempotent.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
// The demo catalogue's PRNG (that file has only a type import, so Node runs it as it is).
import { mulberry32 } from '../../apps/metadata/src/demo/demo-catalogue.ts';

export { mulberry32 };

export interface GeneratedTrack {
  isrc: string;
  title: string;
  artist_name: string;
  album_title: string;
  duration_ms: number;
  release_date: string;
  popularity: number;
  explicit: boolean;
  regions: string[];
  tier: string;
  audio_ref: string;
  attributes: {
    genres: string[];
    moods: string[];
    language: string;
    bpm: number;
    key: string;
    mode: string;
    energy: number;
    valence: number;
    danceability: number;
    vocal_type: string;
    tags: string[];
  };
}

interface Genre {
  name: string;
  weight: number;
  moods: string[];
  bpm: [number, number];
  energy: [number, number];
  languages: string[];
}

// Weights give a long tail: pop and rock are common filters, gospel and city-pop rare ones.
export const GENRES: Genre[] = [
  { name: 'pop', weight: 20, moods: ['happy', 'romantic', 'uplifting', 'playful'], bpm: [95, 130], energy: [0.5, 0.85], languages: ['en', 'es', 'fr', 'de', 'it', 'pt'] },
  { name: 'rock', weight: 14, moods: ['energetic', 'angry', 'uplifting', 'nostalgic'], bpm: [100, 160], energy: [0.6, 0.95], languages: ['en', 'de', 'es'] },
  { name: 'hip-hop', weight: 12, moods: ['confident', 'energetic', 'dark', 'tense'], bpm: [80, 110], energy: [0.55, 0.9], languages: ['en', 'fr', 'ko', 'de'] },
  { name: 'electronic', weight: 9, moods: ['energetic', 'euphoric', 'dark', 'dreamy'], bpm: [118, 140], energy: [0.65, 0.98], languages: ['en', 'de', 'nl'] },
  { name: 'r&b', weight: 6, moods: ['romantic', 'relaxed', 'confident'], bpm: [65, 100], energy: [0.35, 0.7], languages: ['en'] },
  { name: 'latin', weight: 6, moods: ['happy', 'romantic', 'energetic'], bpm: [90, 130], energy: [0.6, 0.9], languages: ['es', 'pt'] },
  { name: 'mandopop', weight: 5, moods: ['romantic', 'melancholic', 'happy', 'nostalgic'], bpm: [70, 125], energy: [0.3, 0.75], languages: ['zh'] },
  { name: 'j-pop', weight: 4, moods: ['happy', 'energetic', 'uplifting', 'playful'], bpm: [110, 170], energy: [0.55, 0.9], languages: ['ja'] },
  { name: 'k-pop', weight: 4, moods: ['energetic', 'happy', 'confident'], bpm: [100, 140], energy: [0.6, 0.95], languages: ['ko'] },
  { name: 'jazz', weight: 3, moods: ['relaxed', 'melancholic', 'romantic'], bpm: [70, 140], energy: [0.2, 0.6], languages: ['en', 'fr'] },
  { name: 'classical', weight: 3, moods: ['calm', 'melancholic', 'epic', 'peaceful'], bpm: [50, 120], energy: [0.05, 0.5], languages: ['de', 'it', 'fr'] },
  { name: 'country', weight: 3, moods: ['nostalgic', 'happy', 'sad'], bpm: [80, 120], energy: [0.4, 0.7], languages: ['en'] },
  { name: 'folk', weight: 2, moods: ['calm', 'melancholic', 'happy'], bpm: [70, 120], energy: [0.2, 0.55], languages: ['en', 'es', 'sv'] },
  { name: 'metal', weight: 2, moods: ['angry', 'dark', 'energetic', 'epic'], bpm: [120, 200], energy: [0.8, 1], languages: ['en', 'de', 'sv'] },
  { name: 'ambient', weight: 1.5, moods: ['calm', 'dreamy', 'peaceful'], bpm: [60, 90], energy: [0.02, 0.3], languages: ['en'] },
  { name: 'soul', weight: 1, moods: ['romantic', 'sad', 'uplifting'], bpm: [70, 110], energy: [0.35, 0.7], languages: ['en'] },
  { name: 'reggae', weight: 1, moods: ['relaxed', 'happy'], bpm: [60, 90], energy: [0.4, 0.7], languages: ['en'] },
  { name: 'afrobeats', weight: 1, moods: ['happy', 'energetic'], bpm: [95, 115], energy: [0.6, 0.9], languages: ['en', 'yo', 'sw'] },
  { name: 'soundtrack', weight: 0.8, moods: ['epic', 'tense', 'calm'], bpm: [60, 140], energy: [0.2, 0.8], languages: ['en'] },
  { name: 'blues', weight: 0.5, moods: ['sad', 'melancholic'], bpm: [60, 110], energy: [0.3, 0.6], languages: ['en'] },
  { name: 'gospel', weight: 0.2, moods: ['uplifting', 'peaceful'], bpm: [70, 120], energy: [0.4, 0.8], languages: ['en'] },
  { name: 'city-pop', weight: 0.1, moods: ['nostalgic', 'dreamy'], bpm: [95, 125], energy: [0.4, 0.7], languages: ['ja'] },
];

export const WORDS: Record<string, string[]> = {
  en: `midnight river golden echo summer neon heart storm city light wild ocean shadow fire dream road silver rain paper velvet
    morning winter autumn spring thunder whisper mirror garden highway diamond ghost island desert harbor lantern satellite
    canyon meadow crystal electric gravity honey ivory jungle kingdom lullaby marble nectar orbit prairie quartz rebel saint
    tiger umbrella valley wonder yellow zenith anchor blossom cobalt dawn ember feather glacier horizon indigo jasmine karma
    lagoon monsoon nomad opal phoenix quiet radio scarlet thorn utopia vapor willow young zephyr angel broken cherry dancer
    empire forever gold hollow infinite jealous kiss lonely magic never only perfect runaway secret tonight universe violet`.split(/\s+/),
  es: `corazón noche fuego luna camino sol mar alma baila cielo estrella amor vida sueño tierra flor viento lluvia ciudad playa
    fiesta beso tiempo locura verano canción río montaña oro plata siempre nunca destino libertad`.split(/\s+/),
  fr: `nuit étoile rêve amour soleil ville pluie lumière cœur mer ciel fleur vent temps chanson douce liberté silence jardin
    hiver été automne printemps rouge bleu`.split(/\s+/),
  de: `nacht sturm licht herz stadt winter feuer traum himmel wald meer stern sommer regen freiheit zeit liebe welt wind schatten`.split(/\s+/),
  it: `notte cuore amore sole luna mare stella cielo vita sogno estate fuoco`.split(/\s+/),
  pt: `saudade coração noite mar sol lua amor vida praia sonho estrela`.split(/\s+/),
  nl: `nacht hart licht stad zomer regen droom vuur zee`.split(/\s+/),
  sv: `natt hjärta ljus sommar vinter drömmar havet stjärna skog`.split(/\s+/),
  yo: `ife ayo orin ola ile oju`.split(/\s+/),
  sw: `upendo moyo usiku jua nyota safari`.split(/\s+/),
  zh: `夜空 月光 城市 青春 晴天 告白 星星 海边 回忆 风 雨天 思念 花火 微笑 远方 时光 梦想 天空 爱情 故事 流浪 烟火 雪 彩虹 蝴蝶 秘密 温柔 孤单 未来 心跳 黄昏 日落`.split(/\s+/),
  ja: `桜 夏空 夜明け 花火 東京 雨音 約束 未来 星屑 風 恋 青空 涙 光 夢 季節 月 君 世界 奇跡 想い出 永遠 ひかり さくら ありがとう`.split(/\s+/),
  ko: `별빛 사랑 여름 꿈 바다 밤 하늘 노래 눈물 시간 봄날 그대 우리 달빛`.split(/\s+/),
};
const JOIN: Record<string, string[]> = { zh: ['', '的'], ja: ['の', '', 'と'], ko: [' '] };
const SYLLABLES = 'ka lo mi ra ven tor sel dan ix ar bel cor fen gal hal jun kes lum mor nix pax quin ros syl tam ul vex wyn zor'.split(' ');
const NOUNS = 'Foxes Arcade Tides Owls Signal Harbor Machines Gardens Parade Satellites Collective Orchestra Club Brothers Sisters Project Band Trio Ensemble Crew'.split(' ');
const TAGS = 'live acoustic remix instrumental cover workout study party chill road-trip sleep focus wedding throwback radio-edit'.split(' ');
const KEYS = 'c c# d d# e f f# g g# a a# b'.split(' ');
const REGION_SETS = [[], [], [], ['US', 'CA'], ['SE', 'NO', 'DK', 'FI'], ['JP'], ['CN', 'TW', 'HK'], ['DE', 'AT', 'CH']];

/** The tracks of a synthetic catalogue, one at a time. */
export function* generateCatalogue(count: number, seed = 7): Generator<GeneratedTrack> {
  const rnd = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const between = (lo: number, hi: number): number => lo + rnd() * (hi - lo);
  const round2 = (n: number): number => Math.round(n * 100) / 100;
  const totalWeight = GENRES.reduce((n, g) => n + g.weight, 0);
  const pickGenreWith = (random: () => number): Genre => {
    let r = random() * totalWeight;
    for (const g of GENRES) if ((r -= g.weight) <= 0) return g;
    return GENRES[0]!;
  };
  const pickGenre = (): Genre => pickGenreWith(rnd);
  const artistCount = Math.max(1, Math.floor(count / 25));
  const phrase = (language: string, n: number): string => {
    const words = WORDS[language] ?? WORDS.en!;
    const parts = Array.from({ length: n }, () => pick(words));
    const text = parts.join(pick(JOIN[language] ?? [' ']));
    return text.charAt(0).toUpperCase() + text.slice(1);
  };
  // An artist's albums: a few each, the same title every time (about 10 tracks per album).
  const albumTitle = (language: string, artistNo: number, albumNo: number): string => {
    const r = mulberry32(seed * 104_729 + artistNo * 16 + albumNo);
    const words = WORDS[language] ?? WORDS.en!;
    const n = 1 + Math.floor(r() * 2);
    const text = Array.from({ length: n }, () => words[Math.floor(r() * words.length)]).join(language === 'zh' || language === 'ja' ? '' : ' ');
    return `${text.charAt(0).toUpperCase()}${text.slice(1)}${albumNo ? ` ${['II', 'III', 'IV', 'V', 'VI'][albumNo - 1]}` : ''}`;
  };
  for (let i = 0; i < count; i++) {
    // Artists are numbered; each keeps its name, home genre and language, and its albums are numbered
    // within it. (Drawing the language per track gave one artist a name and album titles per language:
    // 1.75 tracks per album instead of about 10.)
    const artistNo = Math.floor(Math.pow(rnd(), 1.5) * artistCount);
    const artistRnd = mulberry32(seed * 7919 + artistNo);
    const home = pickGenreWith(artistRnd);
    const language = home.languages[Math.floor(artistRnd() * home.languages.length)]!;
    // Most of an artist's tracks are in its home genre.
    const genre = rnd() < 0.8 ? home : pickGenre();
    const syl = () => SYLLABLES[Math.floor(artistRnd() * SYLLABLES.length)]!;
    const artistName =
      language === 'zh' || language === 'ja' || language === 'ko'
        ? `${(WORDS[language] ?? [])[Math.floor(artistRnd() * (WORDS[language] ?? []).length)]}${syl()}${artistNo}`
        : `${(syl() + syl()).replace(/^./, (c) => c.toUpperCase())} ${NOUNS[Math.floor(artistRnd() * NOUNS.length)]} ${artistNo}`;
    const moods = new Set([pick(genre.moods)]);
    if (rnd() < 0.5) moods.add(pick(genre.moods));
    const second = rnd() < 0.15 ? pickGenre().name : undefined;
    // Zipf: a uniformly random rank r gets popularity proportional to r^-0.35, scaled to 0..100.
    const rank = 1 + Math.floor(rnd() * count);
    const popularity = Math.max(0, Math.min(100, Math.round(100 / Math.pow(rank, 0.35))));
    const year = 1960 + Math.floor(Math.pow(rnd(), 0.4) * 66);
    const titleWords = 1 + Math.floor(rnd() * 3);
    yield {
      // CC + registrant (3) + 7 digits: ZZ is reserved (never a real country), the rest encodes i.
      isrc: `ZZ${String.fromCharCode(65 + (Math.floor(i / 1e7) % 26))}${String(seed % 100).padStart(2, '0')}${String(i % 1e7).padStart(7, '0')}`,
      title: phrase(language, titleWords) + (rnd() < 0.08 ? ` ${pick(['(Remix)', '(Live)', '(Acoustic)', 'Pt. 2', '(Radio Edit)'])}` : ''),
      artist_name: artistName,
      album_title: albumTitle(language, artistNo, Math.floor(rnd() * (1 + (artistNo % 6)))),
      duration_ms: Math.round(between(90, 420)) * 1000,
      release_date: `${year}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`,
      popularity,
      explicit: genre.name === 'hip-hop' ? rnd() < 0.5 : rnd() < 0.05,
      regions: pick(REGION_SETS),
      tier: rnd() < 0.15 ? 'premium' : 'free',
      audio_ref: `syn/${i}.flac`,
      attributes: {
        genres: second && second !== genre.name ? [genre.name, second] : [genre.name],
        moods: [...moods],
        language,
        bpm: Math.round(between(genre.bpm[0], genre.bpm[1])),
        key: pick(KEYS),
        mode: rnd() < 0.6 ? 'major' : 'minor',
        energy: round2(between(genre.energy[0], genre.energy[1])),
        valence: round2(rnd()),
        danceability: round2(between(0.2, 0.95)),
        vocal_type: pick(['male', 'female', 'mixed', 'instrumental']),
        tags: rnd() < 0.3 ? [pick(TAGS)] : [],
      },
    };
  }
}

const CSV_COLUMNS = [
  'isrc', 'title', 'artist_name', 'album_title', 'duration_ms', 'release_date', 'popularity', 'explicit', 'regions', 'tier',
  'audio_ref', 'genres', 'moods', 'language', 'bpm', 'key', 'mode', 'energy', 'valence', 'danceability', 'vocal_type', 'tags',
];

function csvField(value: unknown): string {
  const text = Array.isArray(value) ? value.join(';') : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(t: GeneratedTrack): string {
  const flat: Record<string, unknown> = { ...t, ...t.attributes };
  return CSV_COLUMNS.map((c) => csvField(flat[c])).join(',');
}

/** Writes `count` tracks to `out` (.jsonl or .csv). */
export async function writeCatalogue(out: string, count: number, seed = 7): Promise<void> {
  const csv = out.toLowerCase().endsWith('.csv');
  const stream = createWriteStream(out);
  let buffer = csv ? `${CSV_COLUMNS.join(',')}\n` : '';
  for (const track of generateCatalogue(count, seed)) {
    buffer += `${csv ? csvRow(track) : JSON.stringify(track)}\n`;
    if (buffer.length > 1 << 20) {
      if (!stream.write(buffer)) await once(stream, 'drain');
      buffer = '';
    }
  }
  stream.end(buffer);
  await once(stream, 'finish');
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { count: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string', default: '7' } } });
  const count = Number(values.count);
  if (!values.out || !Number.isInteger(count) || count < 1) {
    process.stderr.write('usage: npx node tools/catalogue/generate.ts --count N --out file.jsonl|file.csv [--seed S]\n');
    process.exit(2);
  }
  const started = Date.now();
  await writeCatalogue(values.out, count, Number(values.seed));
  process.stderr.write(`wrote ${count} tracks to ${values.out} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
