/**
 * The generator's own vocabulary: invented title words, generic given names
 * and surnames, genres and poster image names. Nothing here is taken from the
 * real export; only the shapes are alike ("Surname, Given", titles with a
 * trailing ", The", camel-case `.png` posters).
 *
 * Every string is plain ASCII except {@linkcode ACCENTED_SURNAMES} and
 * {@linkcode ACCENTED_GIVEN}, whose characters all exist in windows-1252.
 *
 * @module
 */

/**
 * Adjectives for titles.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ADJECTIVES } from "./vocab.ts";
 * assert.ok(ADJECTIVES.length > 50);
 * ```
 */
export const ADJECTIVES: readonly string[] = [
  "Silent",
  "Crimson",
  "Hollow",
  "Velvet",
  "Broken",
  "Golden",
  "Restless",
  "Midnight",
  "Frozen",
  "Wild",
  "Last",
  "Lonely",
  "Burning",
  "Hidden",
  "Distant",
  "Paper",
  "Iron",
  "Glass",
  "Copper",
  "Northern",
  "Southern",
  "Bitter",
  "Sweet",
  "Dark",
  "Bright",
  "Lost",
  "Second",
  "Savage",
  "Gentle",
  "Quiet",
  "Reckless",
  "Endless",
  "Secret",
  "Wandering",
  "Forgotten",
  "Electric",
  "Painted",
  "Sleeping",
  "Falling",
  "Rising",
  "Stolen",
  "Borrowed",
  "Crooked",
  "Empty",
  "Faded",
  "Scarlet",
  "Emerald",
  "Amber",
  "Pale",
  "Final",
  "Lucky",
  "Wicked",
  "Tender",
  "Brave",
  "Hungry",
  "Foreign",
  "Little",
  "Big",
  "Long",
  "Narrow",
];

/**
 * Nouns for titles.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NOUNS } from "./vocab.ts";
 * assert.ok(NOUNS.includes("Harbor"));
 * ```
 */
export const NOUNS: readonly string[] = [
  "Harbor",
  "River",
  "Mirror",
  "Lantern",
  "Orchard",
  "Station",
  "Garden",
  "Bridge",
  "Tower",
  "Highway",
  "Horizon",
  "Circus",
  "Carnival",
  "Kingdom",
  "Empire",
  "Frontier",
  "Canyon",
  "Valley",
  "Island",
  "Lighthouse",
  "Compass",
  "Clockwork",
  "Engine",
  "Signal",
  "Shadow",
  "Echo",
  "Storm",
  "Thunder",
  "Winter",
  "Summer",
  "Autumn",
  "Harvest",
  "Voyage",
  "Journey",
  "Promise",
  "Secret",
  "Stranger",
  "Witness",
  "Outlaw",
  "Sheriff",
  "Drifter",
  "Dancer",
  "Painter",
  "Soldier",
  "Sailor",
  "Pilot",
  "Doctor",
  "Detective",
  "Gambler",
  "Widow",
  "Heiress",
  "Prophet",
  "Thief",
  "Rider",
  "Hunter",
  "Angel",
  "Ghost",
  "Monster",
  "Machine",
  "Planet",
  "Comet",
  "Galaxy",
  "Moon",
  "Sun",
  "Star",
  "Ocean",
  "Desert",
  "Forest",
  "Mountain",
  "Village",
  "City",
  "Street",
  "Hotel",
  "Theater",
  "Ballroom",
  "Diary",
  "Letter",
  "Melody",
  "Ballad",
  "Waltz",
  "Tango",
  "Affair",
  "Wedding",
  "Funeral",
  "Reunion",
  "Escape",
  "Ransom",
  "Verdict",
  "Alibi",
  "Conspiracy",
  "Labyrinth",
  "Paradise",
  "Inferno",
  "Silence",
  "Fever",
  "Dream",
  "Memory",
  "Heart",
  "Crown",
];

/**
 * Invented place names for titles ("… in Marrowfield").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PLACES } from "./vocab.ts";
 * assert.ok(PLACES.length >= 20);
 * ```
 */
export const PLACES: readonly string[] = [
  "Marrowfield",
  "Port Ellery",
  "Castelmar",
  "Dunhollow",
  "Brightwater",
  "Calder Bay",
  "Ravensmoor",
  "Saltmarsh",
  "Kestrel Point",
  "Ashgrove",
  "Vellmore",
  "Thornbury Cross",
  "San Aurelio",
  "Fenwick",
  "Larkspur",
  "Old Quarry",
  "Cold Spring",
  "Redhaven",
  "Mirador",
  "Windmere",
  "Belcastle",
  "Ostrava Lane",
  "Pinecrest",
  "Harrowgate",
];

/**
 * Given names (ASCII).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GIVEN_NAMES } from "./vocab.ts";
 * assert.ok(GIVEN_NAMES.every((n) => /^[A-Za-z]+$/.test(n)));
 * ```
 */
export const GIVEN_NAMES: readonly string[] = [
  "Arthur",
  "Beatrice",
  "Calvin",
  "Dora",
  "Edmund",
  "Fiona",
  "Gideon",
  "Harriet",
  "Ivan",
  "Judith",
  "Kenneth",
  "Lydia",
  "Marcus",
  "Nora",
  "Oscar",
  "Phyllis",
  "Quentin",
  "Rosalind",
  "Silas",
  "Tamsin",
  "Ulric",
  "Vivian",
  "Walter",
  "Yvonne",
  "Abel",
  "Bridget",
  "Cyrus",
  "Delia",
  "Elliot",
  "Flora",
  "Gordon",
  "Hazel",
  "Irving",
  "June",
  "Lionel",
  "Mabel",
  "Nolan",
  "Opal",
  "Percy",
  "Ruth",
  "Stanley",
  "Thelma",
  "Vernon",
  "Wanda",
  "Alfred",
  "Clara",
  "Dexter",
  "Estelle",
  "Franklin",
  "Greta",
  "Howard",
  "Iris",
  "Jasper",
  "Leona",
  "Milton",
  "Nadine",
  "Otis",
  "Pearl",
  "Roland",
  "Sylvia",
];

/**
 * Surnames (ASCII).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SURNAMES } from "./vocab.ts";
 * assert.ok(SURNAMES.every((n) => /^[A-Za-z' -]+$/.test(n)));
 * ```
 */
export const SURNAMES: readonly string[] = [
  "Ashby",
  "Barlowe",
  "Cranston",
  "Delacroix",
  "Ellsworth",
  "Fairbanks",
  "Gillespie",
  "Hargrove",
  "Ingram",
  "Jessup",
  "Kettering",
  "Lockhart",
  "Merriweather",
  "Northcott",
  "Oakley",
  "Pennington",
  "Quill",
  "Radcliffe",
  "Sterling",
  "Thackery",
  "Underhill",
  "Vance",
  "Whitlock",
  "Yardley",
  "Abernathy",
  "Blackwood",
  "Calloway",
  "Dunmore",
  "Everly",
  "Fletcher",
  "Galloway",
  "Hollis",
  "Iverson",
  "Jennings",
  "Kimball",
  "Langley",
  "Marlow",
  "Nettleton",
  "Osgood",
  "Prescott",
  "Redfern",
  "Sandoval",
  "Tolliver",
  "Upton",
  "Vickers",
  "Wexley",
  "Ainsley",
  "Brandt",
  "Corwin",
  "Drummond",
  "Easton",
  "Finch",
  "Garrick",
  "Hastings",
  "Keel",
  "Lowell",
  "Mercer",
  "Nash",
  "Orton",
  "Pryce",
  "Rowan",
  "Sheffield",
  "Tate",
  "Voss",
  "Winslow",
  "O'Hare",
  "McAllister",
  "Van Dorn",
  "De Witt",
  "Castellano",
  "Moretti",
  "Kowalski",
  "Lindqvist",
  "Okafor",
  "Tanaka",
  "Novak",
  "Petrov",
  "Haddad",
  "Quintero",
  "Sorensen",
];

/**
 * Surnames with letters outside ASCII, all present in windows-1252; the
 * generator breaks these into U+FFFD for the `fffd` defect.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ACCENTED_SURNAMES } from "./vocab.ts";
 * assert.ok(ACCENTED_SURNAMES.every((n) => /[\u0080-\uffff]/.test(n)));
 * ```
 */
export const ACCENTED_SURNAMES: readonly string[] = [
  "Bérenger",
  "Lefèvre",
  "Müller",
  "Sørby",
  "Núñez",
  "Gonçalves",
  "Åkerlund",
  "Duchêne",
  "Björklund",
  "Ibáñez",
  "Château",
  "Grünwald",
  "Løvholt",
  "Márquez",
  "Pérez-Ortí",
  "Fréchette",
  "Östberg",
  "Jóhannsdóttir",
  "Brontë",
  "Mañara",
  "Würtz",
  "Hélary",
  "Strömqvist",
  "Valdés",
];

/**
 * Given names with letters outside ASCII (windows-1252 only).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ACCENTED_GIVEN } from "./vocab.ts";
 * assert.ok(ACCENTED_GIVEN.length >= 10);
 * ```
 */
export const ACCENTED_GIVEN: readonly string[] = [
  "Gérald",
  "Hélène",
  "François",
  "Zoë",
  "Jürgen",
  "Søren",
  "Inés",
  "Renée",
  "Björn",
  "Céline",
  "Joaquín",
  "Ágota",
  "Léon",
  "Maëlle",
];

/**
 * One-word stage names (no comma), as the export has for a few performers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { STAGE_NAMES } from "./vocab.ts";
 * assert.ok(STAGE_NAMES.every((n) => !n.includes(",")));
 * ```
 */
export const STAGE_NAMES: readonly string[] = [
  "Zandora",
  "Mirelle",
  "Kasimir",
  "Belladine",
  "Orlo",
  "Tuppence-Lee",
  "Valentino Ash",
  "Rusty the Wonder Mule",
];

/**
 * Genres with their weight in the real export (share of rows, measured on
 * `backup.csv`); the empty string is a missing genre.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SUBJECTS } from "./vocab.ts";
 * assert.ok(SUBJECTS[0][0] === "Drama");
 * ```
 */
export const SUBJECTS: readonly (readonly [string, number])[] = [
  ["Drama", 2625],
  ["Comedy", 1531],
  ["Action", 824],
  ["Western", 484],
  ["Mystery", 432],
  ["Horror", 220],
  ["Music", 172],
  ["Science Fiction", 152],
  ["War", 140],
  ["Westerns", 32],
  ["Adventure", 24],
  ["", 8],
  ["Fantasy", 7],
  ["Short", 4],
  ["Romance", 4],
  ["Crime", 4],
];

/**
 * Poster image names (invented), most-used first: like the export, one
 * placeholder poster covers about 70 % of the rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IMAGES } from "./vocab.ts";
 * assert.ok(IMAGES.every(([name]) => name.endsWith(".png")));
 * ```
 */
export const IMAGES: readonly (readonly [string, number])[] = [
  ["ArthurVance.png", 4610],
  ["marloweGrant.png", 320],
  ["hazelOakley.png", 156],
  ["gideonCrane.png", 120],
  ["Lockhart.png", 113],
  ["silasRedfern.png", 112],
  ["noraWexley.png", 112],
  ["opalBrandt.png", 104],
  ["percyHollis.png", 92],
  ["irisCalloway.png", 88],
  ["dunmore.png", 88],
  ["lionelMercer.png", 76],
  ["clara.png", 76],
  ["tamsinKeel.png", 76],
  ["vivianLowell.png", 72],
  ["RuthPryce.png", 60],
  ["otisFinch.png", 60],
  ["mabelCorwin.png", 60],
  ["ivo.png", 56],
  ["JasperTate.png", 48],
  ["DeliaNash.png", 40],
  ["QuentinVoss.png", 40],
  ["greta.png", 32],
  ["winslow.png", 20],
  ["orton.png", 16],
  ["K9.png", 8],
  ["lark.png", 4],
];
