// The one synthetic catalogue: `main.js seed-demo` loads it and tools/catalogue/generate.ts writes it
// to files for the benchmarks. tools/ runs this file from source with Node's type stripping, so it
// may only have type imports.
import type { TrackInput } from '../catalogue/track-input.schema.js';

/** The seed the demo catalogue and the benchmarks' generated files use unless told otherwise. */
export const DEFAULT_SEED = 7;

/** A small deterministic PRNG (mulberry32): the same seed always yields the same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenreProfile {
  name: string;
  weight: number;
  moods: string[];
  bpm: [number, number];
  energy: [number, number];
  languages: string[];
}

// Weights give a long tail: pop and rock are common filters, gospel and city-pop rare ones.
export const GENRE_PROFILES: readonly GenreProfile[] = [
  {
    name: 'pop',
    weight: 20,
    moods: ['happy', 'romantic', 'uplifting', 'playful'],
    bpm: [95, 130],
    energy: [0.5, 0.85],
    languages: ['en', 'es', 'fr', 'de', 'it', 'pt'],
  },
  {
    name: 'rock',
    weight: 14,
    moods: ['energetic', 'angry', 'uplifting', 'nostalgic'],
    bpm: [100, 160],
    energy: [0.6, 0.95],
    languages: ['en', 'de', 'es'],
  },
  {
    name: 'hip-hop',
    weight: 12,
    moods: ['confident', 'energetic', 'dark', 'tense'],
    bpm: [80, 110],
    energy: [0.55, 0.9],
    languages: ['en', 'fr', 'ko', 'de'],
  },
  {
    name: 'electronic',
    weight: 9,
    moods: ['energetic', 'euphoric', 'dark', 'dreamy'],
    bpm: [118, 140],
    energy: [0.65, 0.98],
    languages: ['en', 'de', 'nl'],
  },
  { name: 'r&b', weight: 6, moods: ['romantic', 'relaxed', 'confident'], bpm: [65, 100], energy: [0.35, 0.7], languages: ['en'] },
  { name: 'latin', weight: 6, moods: ['happy', 'romantic', 'energetic'], bpm: [90, 130], energy: [0.6, 0.9], languages: ['es', 'pt'] },
  {
    name: 'mandopop',
    weight: 5,
    moods: ['romantic', 'melancholic', 'happy', 'nostalgic'],
    bpm: [70, 125],
    energy: [0.3, 0.75],
    languages: ['zh'],
  },
  {
    name: 'j-pop',
    weight: 4,
    moods: ['happy', 'energetic', 'uplifting', 'playful'],
    bpm: [110, 170],
    energy: [0.55, 0.9],
    languages: ['ja'],
  },
  { name: 'k-pop', weight: 4, moods: ['energetic', 'happy', 'confident'], bpm: [100, 140], energy: [0.6, 0.95], languages: ['ko'] },
  { name: 'jazz', weight: 3, moods: ['relaxed', 'melancholic', 'romantic'], bpm: [70, 140], energy: [0.2, 0.6], languages: ['en', 'fr'] },
  {
    name: 'classical',
    weight: 3,
    moods: ['calm', 'melancholic', 'epic', 'peaceful'],
    bpm: [50, 120],
    energy: [0.05, 0.5],
    languages: ['de', 'it', 'fr'],
  },
  { name: 'country', weight: 3, moods: ['nostalgic', 'happy', 'sad'], bpm: [80, 120], energy: [0.4, 0.7], languages: ['en'] },
  { name: 'folk', weight: 2, moods: ['calm', 'melancholic', 'happy'], bpm: [70, 120], energy: [0.2, 0.55], languages: ['en', 'es', 'sv'] },
  {
    name: 'metal',
    weight: 2,
    moods: ['angry', 'dark', 'energetic', 'epic'],
    bpm: [120, 200],
    energy: [0.8, 1],
    languages: ['en', 'de', 'sv'],
  },
  { name: 'ambient', weight: 1.5, moods: ['calm', 'dreamy', 'peaceful'], bpm: [60, 90], energy: [0.02, 0.3], languages: ['en'] },
  { name: 'soul', weight: 1, moods: ['romantic', 'sad', 'uplifting'], bpm: [70, 110], energy: [0.35, 0.7], languages: ['en'] },
  { name: 'reggae', weight: 1, moods: ['relaxed', 'happy'], bpm: [60, 90], energy: [0.4, 0.7], languages: ['en'] },
  { name: 'afrobeats', weight: 1, moods: ['happy', 'energetic'], bpm: [95, 115], energy: [0.6, 0.9], languages: ['en', 'yo', 'sw'] },
  { name: 'soundtrack', weight: 0.8, moods: ['epic', 'tense', 'calm'], bpm: [60, 140], energy: [0.2, 0.8], languages: ['en'] },
  { name: 'blues', weight: 0.5, moods: ['sad', 'melancholic'], bpm: [60, 110], energy: [0.3, 0.6], languages: ['en'] },
  { name: 'gospel', weight: 0.2, moods: ['uplifting', 'peaceful'], bpm: [70, 120], energy: [0.4, 0.8], languages: ['en'] },
  { name: 'city-pop', weight: 0.1, moods: ['nostalgic', 'dreamy'], bpm: [95, 125], energy: [0.4, 0.7], languages: ['ja'] },
];

/** The words titles are made of, per language. */
export const TITLE_WORDS: Readonly<Record<string, readonly string[]>> = {
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
  de: `nacht sturm licht herz stadt winter feuer traum himmel wald meer stern sommer regen freiheit zeit liebe welt wind schatten`.split(
    /\s+/,
  ),
  it: `notte cuore amore sole luna mare stella cielo vita sogno estate fuoco`.split(/\s+/),
  pt: `saudade coração noite mar sol lua amor vida praia sonho estrela`.split(/\s+/),
  nl: `nacht hart licht stad zomer regen droom vuur zee`.split(/\s+/),
  sv: `natt hjärta ljus sommar vinter drömmar havet stjärna skog`.split(/\s+/),
  yo: `ife ayo orin ola ile oju`.split(/\s+/),
  sw: `upendo moyo usiku jua nyota safari`.split(/\s+/),
  zh: `夜空 月光 城市 青春 晴天 告白 星星 海边 回忆 风 雨天 思念 花火 微笑 远方 时光 梦想 天空 爱情 故事 流浪 烟火 雪 彩虹 蝴蝶 秘密 温柔 孤单 未来 心跳 黄昏 日落`.split(
    /\s+/,
  ),
  ja: `桜 夏空 夜明け 花火 東京 雨音 約束 未来 星屑 風 恋 青空 涙 光 夢 季節 月 君 世界 奇跡 想い出 永遠 ひかり さくら ありがとう`.split(
    /\s+/,
  ),
  ko: `별빛 사랑 여름 꿈 바다 밤 하늘 노래 눈물 시간 봄날 그대 우리 달빛`.split(/\s+/),
};
const ENGLISH_WORDS = TITLE_WORDS.en as readonly string[];
const JOIN: Readonly<Record<string, readonly string[]>> = { zh: ['', '的'], ja: ['の', '', 'と'], ko: [' '] };
const SYLLABLES = 'ka lo mi ra ven tor sel dan ix ar bel cor fen gal hal jun kes lum mor nix pax quin ros syl tam ul vex wyn zor'.split(
  ' ',
);
const NOUNS =
  'Foxes Arcade Tides Owls Signal Harbor Machines Gardens Parade Satellites Collective Orchestra Club Brothers Sisters Project Band Trio Ensemble Crew'.split(
    ' ',
  );
const TAGS = 'live acoustic remix instrumental cover workout study party chill road-trip sleep focus wedding throwback radio-edit'.split(
  ' ',
);
const KEYS = 'c c# d d# e f f# g g# a a# b'.split(' ');
const REGION_SETS = [[], [], [], ['US', 'CA'], ['SE', 'NO', 'DK', 'FI'], ['JP'], ['CN', 'TW', 'HK'], ['DE', 'AT', 'CH']];
const ALBUM_SUFFIXES = ['II', 'III', 'IV', 'V', 'VI'];

/**
 * The tracks of a synthetic catalogue, one at a time, each valid for `main.js import`: Zipf
 * popularity, genres weighted with a long tail, moods, BPM and energy drawn per genre, languages per
 * genre (titles in 13, Chinese, Japanese and Korean among them). There are about `count / 25`
 * artists, each with a home genre and language that most of its tracks keep, and a few albums of
 * about 7 tracks. Deterministic: for a seed, track i always has the same data and ISRC, so loading
 * it again changes nothing (upsert by ISRC).
 */
export function* syntheticCatalogue(count: number, seed = DEFAULT_SEED): Generator<TrackInput> {
  const rnd = mulberry32(seed);
  const pick = <T>(items: readonly T[], random = rnd): T => items[Math.floor(random() * items.length)] as T;
  const between = (lo: number, hi: number): number => lo + rnd() * (hi - lo);
  const round2 = (n: number): number => Math.round(n * 100) / 100;
  const wordsOf = (language: string): readonly string[] => TITLE_WORDS[language] ?? ENGLISH_WORDS;
  const totalWeight = GENRE_PROFILES.reduce((n, g) => n + g.weight, 0);
  const pickGenre = (random = rnd): GenreProfile => {
    let r = random() * totalWeight;
    for (const g of GENRE_PROFILES) if ((r -= g.weight) <= 0) return g;
    return GENRE_PROFILES[0] as GenreProfile;
  };
  const artistCount = Math.max(1, Math.floor(count / 25));
  const phrase = (language: string, n: number): string => {
    const words = wordsOf(language);
    const parts = Array.from({ length: n }, () => pick(words));
    const text = parts.join(pick(JOIN[language] ?? [' ']));
    return text.charAt(0).toUpperCase() + text.slice(1);
  };
  // An artist's albums have their own PRNG, so an album has the same title on every track.
  const albumTitle = (language: string, artistNo: number, albumNo: number): string => {
    const r = mulberry32(seed * 104_729 + artistNo * 16 + albumNo);
    const words = wordsOf(language);
    const n = 1 + Math.floor(r() * 2);
    const text = Array.from({ length: n }, () => pick(words, r)).join(language === 'zh' || language === 'ja' ? '' : ' ');
    return `${text.charAt(0).toUpperCase()}${text.slice(1)}${albumNo ? ` ${ALBUM_SUFFIXES[albumNo - 1]}` : ''}`;
  };
  for (let i = 0; i < count; i++) {
    // Artists are numbered, and each draws its name, home genre and language from a PRNG of its own,
    // so it keeps them on every track; drawn per track, one artist would get a name per language.
    const artistNo = Math.floor(Math.pow(rnd(), 1.5) * artistCount);
    const artistRnd = mulberry32(seed * 7919 + artistNo);
    const home = pickGenre(artistRnd);
    const language = pick(home.languages, artistRnd);
    // Most of an artist's tracks are in its home genre.
    const genre = rnd() < 0.8 ? home : pickGenre();
    const syllable = (): string => pick(SYLLABLES, artistRnd);
    const artistName =
      language === 'zh' || language === 'ja' || language === 'ko'
        ? `${pick(wordsOf(language), artistRnd)}${syllable()}${artistNo}`
        : `${(syllable() + syllable()).replace(/^./, (c) => c.toUpperCase())} ${pick(NOUNS, artistRnd)} ${artistNo}`;
    const moods = new Set([pick(genre.moods)]);
    if (rnd() < 0.5) moods.add(pick(genre.moods));
    const second = rnd() < 0.15 ? pickGenre().name : undefined;
    // Zipf: a uniformly random rank r gets popularity proportional to r^-0.35, scaled to 0..100.
    const rank = 1 + Math.floor(rnd() * count);
    const popularity = Math.max(0, Math.min(100, Math.round(100 / Math.pow(rank, 0.35))));
    const year = 1960 + Math.floor(Math.pow(rnd(), 0.4) * 66);
    const titleWords = 1 + Math.floor(rnd() * 3);
    yield {
      // CC + registrant (3) + 7 digits: ZZ is reserved (never a real country), the rest encodes seed and i.
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

/** The CSV columns, as the generator writes them and `main.js import` reads them; lists are `;`-separated. */
export const CSV_COLUMNS = [
  'isrc',
  'title',
  'artist_name',
  'album_title',
  'duration_ms',
  'release_date',
  'popularity',
  'explicit',
  'regions',
  'tier',
  'audio_ref',
  'genres',
  'moods',
  'language',
  'bpm',
  'key',
  'mode',
  'energy',
  'valence',
  'danceability',
  'vocal_type',
  'tags',
] as const;
