/**
 * The local service's third-party dependencies, pinned in one place with
 * full `npm:name@x.y.z` specifiers (see `lib/importer/_deps.ts`). The
 * importer never loads this module.
 *
 * @module
 */

export { Counter, Registry } from "npm:prom-client@15.1.3";
export { Command, InvalidArgumentError, Option } from "npm:commander@15.1.0";
export { HTTPParser } from "npm:http-parser-js@0.5.10";
