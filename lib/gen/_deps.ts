/**
 * The generator's third-party dependencies, pinned in one place with full
 * `npm:name@x.y.z` specifiers (see `lib/importer/_deps.ts`).
 *
 * @module
 */

export { Command, InvalidArgumentError, Option } from "npm:commander@15.1.0";
