/**
 * The HTTP client, pinned (see `_deps.ts`). Apart from the other
 * dependencies because it is the heavy one (about 20 MB and a tenth of a
 * second to load): only `post.ts` imports it, so a module that does not
 * send — and each of its doc tests — does not load it.
 *
 * @module
 */

export { Pool } from "npm:undici@7.30.2";
