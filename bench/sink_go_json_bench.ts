/**
 * Speed of the sink's Go-style decoding (`lib/sink/go_json.ts`): one movie
 * body as the importer posts it, through `decodeFilm` (scanner and decode)
 * and through `checkValid` alone. Run with
 * `deno bench -A bench/sink_go_json_bench.ts`.
 *
 * @module
 */

import { checkValid, decodeFilm } from "../lib/sink/go_json.ts";

const MOVIE = new TextEncoder().encode(JSON.stringify({
  year: 1997,
  length: 194,
  title: "Titanic",
  subject: "Drama",
  actor: "DiCaprio, Leonardo",
  actress: "Winslet, Kate",
  director: "Cameron, James",
  popularity: 80,
  awards: "Yes",
  image: "titanic.png",
}));

Deno.bench({
  name: "decodeFilm, one movie",
  group: "one movie body",
  baseline: true,
  fn() {
    if (!decodeFilm(MOVIE).ok) throw new Error("the movie did not decode");
  },
});

Deno.bench({
  name: "checkValid, one movie",
  group: "one movie body",
  fn() {
    if (checkValid(MOVIE) !== null) throw new Error("the movie is not valid");
  },
});
