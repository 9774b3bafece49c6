/**
 * The benchmark's third-party dependencies, pinned in one place with full
 * `npm:name@x.y.z` specifiers (see `lib/importer/_deps.ts`). Only the plain
 * undici loop (`bench/plain_undici.ts`) loads it.
 *
 * @module
 */

export { Pool } from "npm:undici@7.30.2";
