import type { TrackInput } from '../catalogue/track-input.schema.js';

/**
 * A small deterministic PRNG (mulberry32) so the same seed always yields the same catalogue; also
 * used by tools/catalogue/generate.ts and its benchmark's query mix.
 */
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

interface GenreProfile {
  moods: string[];
  bpm: [number, number];
  energy: [number, number];
  languages: string[];
}

const GENRES: Record<string, GenreProfile> = {
  pop: { moods: ['happy', 'romantic', 'uplifting'], bpm: [95, 130], energy: [0.5, 0.85], languages: ['en', 'es', 'fr'] },
  rock: { moods: ['energetic', 'angry', 'uplifting'], bpm: [100, 160], energy: [0.6, 0.95], languages: ['en', 'de'] },
  'hip-hop': { moods: ['confident', 'energetic', 'dark'], bpm: [80, 110], energy: [0.55, 0.9], languages: ['en', 'fr', 'ko'] },
  electronic: { moods: ['energetic', 'euphoric', 'dark'], bpm: [118, 140], energy: [0.65, 0.98], languages: ['en', 'de'] },
  jazz: { moods: ['relaxed', 'melancholic', 'romantic'], bpm: [70, 140], energy: [0.2, 0.6], languages: ['en', 'fr'] },
  classical: { moods: ['calm', 'melancholic', 'uplifting'], bpm: [50, 120], energy: [0.05, 0.5], languages: ['de', 'fr', 'en'] },
  'r&b': { moods: ['romantic', 'relaxed', 'confident'], bpm: [65, 100], energy: [0.35, 0.7], languages: ['en'] },
  folk: { moods: ['calm', 'melancholic', 'happy'], bpm: [70, 120], energy: [0.2, 0.55], languages: ['en', 'es'] },
  metal: { moods: ['angry', 'dark', 'energetic'], bpm: [120, 200], energy: [0.8, 1], languages: ['en', 'de'] },
  ambient: { moods: ['calm', 'dreamy', 'melancholic'], bpm: [60, 90], energy: [0.02, 0.3], languages: ['en'] },
  mandopop: { moods: ['romantic', 'melancholic', 'happy'], bpm: [70, 125], energy: [0.3, 0.75], languages: ['zh'] },
  'j-pop': { moods: ['happy', 'energetic', 'uplifting'], bpm: [110, 170], energy: [0.55, 0.9], languages: ['ja'] },
  'k-pop': { moods: ['energetic', 'happy', 'confident'], bpm: [100, 140], energy: [0.6, 0.95], languages: ['ko'] },
  latin: { moods: ['happy', 'romantic', 'energetic'], bpm: [90, 130], energy: [0.6, 0.9], languages: ['es'] },
};

const WORDS: Record<string, string[]> = {
  en: ['midnight', 'river', 'golden', 'echo', 'summer', 'neon', 'heart', 'storm', 'city', 'light', 'wild', 'ocean', 'shadow', 'fire', 'dream', 'road', 'silver', 'rain', 'paper', 'velvet'],
  es: ['corazón', 'noche', 'fuego', 'luna', 'camino', 'sol', 'mar', 'alma', 'baila', 'cielo'],
  fr: ['nuit', 'étoile', 'rêve', 'amour', 'soleil', 'ville', 'pluie', 'lumière'],
  de: ['nacht', 'sturm', 'licht', 'herz', 'stadt', 'winter', 'feuer', 'traum'],
  zh: ['夜空', '月光', '城市', '青春', '晴天', '告白', '星星', '海边', '回忆', '风'],
  ja: ['桜', '夏空', '夜明け', '花火', '東京', '雨音', '約束', '未来', '星屑', '風'],
  ko: ['별빛', '사랑', '여름', '꿈', '바다', '밤', '하늘', '노래'],
};
const SEPARATOR: Record<string, string> = { zh: '', ja: 'の' };
const ARTIST_PARTS = ['The', 'Neon', 'Velvet', 'Lunar', 'Echo', 'Crimson', 'Atlas', 'Nova', 'Juniper', 'Static', 'Paper', 'Golden'];
const ARTIST_NOUNS = ['Foxes', 'Arcade', 'Tides', 'Owls', 'Signal', 'Harbor', 'Machines', 'Gardens', 'Parade', 'Satellites'];
const TAGS = ['live', 'acoustic', 'remix', 'instrumental', 'cover', 'workout', 'study', 'party', 'chill', 'road-trip'];

/**
 * Generates a synthetic catalogue with a realistic shape: Zipf-distributed popularity, moods, BPM and
 * energy correlated with genre, several languages with Chinese and Japanese titles. Deterministic:
 * track i always gets the same data and ISRC, so reloading is idempotent (upsert by ISRC).
 */
export function generateDemoCatalogue(count: number, seed = 42): TrackInput[] {
  const rnd = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const between = (lo: number, hi: number): number => lo + rnd() * (hi - lo);
  const genreNames = Object.keys(GENRES);
  const tracks: TrackInput[] = [];
  for (let i = 0; i < count; i++) {
    const genre = pick(genreNames);
    const profile = GENRES[genre] as GenreProfile;
    const language = pick(profile.languages);
    const words = WORDS[language] ?? (WORDS.en as string[]);
    const sep = SEPARATOR[language] ?? ' ';
    const title = [pick(words), pick(words)].join(sep);
    const artistName = language === 'zh' || language === 'ja' ? `${pick(words)}${pick(words)}` : `${pick(ARTIST_PARTS)} ${pick(ARTIST_NOUNS)}`;
    const secondGenre = rnd() < 0.2 ? pick(genreNames) : undefined;
    const moods = [pick(profile.moods)];
    if (rnd() < 0.5) moods.push(pick(profile.moods));
    // Zipf: rank r gets popularity proportional to 1/r, scaled to 0..100.
    const rank = 1 + Math.floor(rnd() * count);
    const popularity = Math.max(0, Math.min(100, Math.round(100 / Math.pow(rank, 0.35))));
    const releaseYear = 1960 + Math.floor(Math.pow(rnd(), 0.4) * 66);
    tracks.push({
      title: title.charAt(0).toUpperCase() + title.slice(1),
      artist_name: artistName,
      album_title: `${pick(words)}${sep}${pick(words)}`,
      duration_ms: Math.round(between(120, 360)) * 1000,
      // CC-XXX-YY-NNNNN: a reserved country code, our registrant, and i spread over year and designation.
      isrc: `ZZOVR${String(Math.floor(i / 100_000) % 100).padStart(2, '0')}${String(i % 100_000).padStart(5, '0')}`,
      release_date: `${releaseYear}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`,
      popularity,
      explicit: genre === 'hip-hop' ? rnd() < 0.5 : rnd() < 0.05,
      attributes: {
        genres: secondGenre && secondGenre !== genre ? [genre, secondGenre] : [genre],
        moods: [...new Set(moods)],
        language,
        bpm: Math.round(between(profile.bpm[0], profile.bpm[1])),
        energy: round2(between(profile.energy[0], profile.energy[1])),
        valence: round2(rnd()),
        danceability: round2(between(0.2, 0.95)),
        tags: rnd() < 0.3 ? [pick(TAGS)] : [],
        mode: rnd() < 0.6 ? 'major' : 'minor',
      },
      regions: [],
      tier: rnd() < 0.1 ? 'premium' : 'free',
      audio_ref: `demo/${i}.flac`,
    });
  }
  return tracks;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
