/**
 * Third-party dependencies, pinned in one place.
 *
 * Every import of an npm package goes through this module (or, for the
 * HTTP client, `_client_deps.ts`) with a full `npm:name@x.y.z` specifier,
 * so `deno run https://…/main.ts` works without the local `deno.json`
 * import map, and `deno.lock` pins the exact tarballs.
 *
 * @module
 */

export { z } from "npm:zod@4.6.7";
export { Command, InvalidArgumentError, Option } from "npm:commander@15.1.0";
// @ts-types="npm:@types/papaparse@5.5.2"
export { default as Papa } from "npm:papaparse@5.7.1";
export { parse as parseDotenv } from "npm:dotenv@18.0.10";
export { createXXHash128 } from "npm:hash-wasm@4.13.0";
