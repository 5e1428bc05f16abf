/**
 * The one tokenisation the metrics and the engines share, so that "a word the user asked for" means
 * the same thing to the engine that keeps it and to the metric that checks it was kept.
 *
 * A word is a maximal run of Unicode letters and digits, lower-cased: "(Red-Hair:1.2)" gives
 * ["red", "hair", "1", "2"]; "don't" gives ["don", "t"] (both stop words). Words keep their order and
 * repeats (a bag of words, not a set); callers that need a set make one.
 */

const WORD = /[\p{L}\p{N}]+/gu;

/** Lower-case alphanumeric words of `text`, in order, repeats kept. */
export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/**
 * English function words, contraction pieces, and chat filler: words that say how a request is asked
 * ("can u make me a pic of ...") rather than what is asked for. Content words are all other words.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  // articles, pronouns, determiners
  'a', 'an', 'the', 'this', 'that', 'these', 'those', 'i', 'me', 'my', 'mine', 'myself', 'we', 'us', 'our', 'ours',
  'you', 'your', 'yours', 'u', 'ur', 'he', 'him', 'his', 'she', 'her', 'hers', 'it', 'its', 'they', 'them', 'their',
  'theirs', 'what', 'which', 'who', 'whom', 'whose', 'some', 'any', 'each', 'every', 'all', 'both', 'either',
  'neither', 'other', 'another', 'such', 'own', 'same',
  // prepositions and conjunctions
  'of', 'in', 'on', 'at', 'to', 'for', 'from', 'by', 'about', 'into', 'onto', 'over', 'under', 'as', 'than', 'then',
  'and', 'or', 'but', 'nor', 'so', 'if', 'because', 'while', 'whilst', 'though', 'although', 'until', 'till',
  'up', 'down', 'out', 'off', 'through', 'during', 'before', 'after', 'again', 'further', 'once', 'here',
  'there', 'when', 'where', 'why', 'how', 'with', 'without', 'within', 'between', 'against', 'around', 'per', 'via',
  // auxiliaries and modal verbs
  'is', 'am', 'are', 'was', 'were', 'be', 'been', 'being', 'have', 'has', 'had', 'having', 'do', 'does', 'did',
  'doing', 'done', 'can', 'could', 'will', 'would', 'shall', 'should', 'may', 'might', 'must', 'ought',
  // adverbs and hedges that carry no visual content
  'not', 'no', 'only', 'very', 'too', 'also', 'just', 'really', 'quite', 'pretty', 'kinda', 'kind', 'sorta', 'sort',
  'maybe', 'perhaps', 'somehow', 'probably', 'actually', 'basically', 'literally', 'even', 'still', 'yet', 'now',
  'more', 'most', 'less', 'much', 'many', 'few', 'lot', 'lots', 'bit', 'something', 'anything', 'everything',
  'thing', 'things', 'stuff', 'like', 'instead', 'rather', 'ok', 'okay', 'yeah', 'yes', 'oh', 'hey', 'hi',
  'hello', 'yo', 'thanks', 'thank', 'lol', 'pls', 'plz', 'please',
  // request verbs: how the user asks, not what for
  'make', 'makes', 'making', 'made', 'create', 'generate', 'draw', 'render', 'want', 'wanna', 'wanted', 'need', 'needs', 'get', 'got',
  'gonna', 'gotta', 'let', 'lets', 'give', 'show', 'see', 'think', 'guess', 'try', 'keep', 'put', 'add', 'go',
  'pic', 'pics', 'picture', 'image', 'one',
  // contraction pieces ("don't" -> "don", "t"; "I'm" -> "i", "m") and apostrophe-less spellings
  's', 't', 'd', 'll', 'm', 're', 've', 'don', 'doesn', 'didn', 'isn', 'aren', 'wasn', 'weren', 'won', 'wouldn',
  'couldn', 'shouldn', 'cant', 'dont', 'im', 'id', 'ive', 'youre', 'thats', 'whats',
]);

/** Words of `text` that are not stop words, in order, repeats kept. */
export function contentWords(text: string): string[] {
  return words(text).filter((w) => !STOP_WORDS.has(w));
}
