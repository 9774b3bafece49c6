/**
 * A real full disk for tests: a small tmpfs mounted in a test folder (needs
 * root or CAP_SYS_ADMIN; otherwise the answer says why, so the test is
 * skipped with that reason), and a way to fill it.
 *
 * @module
 */

const decoder = new TextDecoder();

/** A small disk mounted for a test, or why there is none. */
export type SmallDisk =
  | { mounted: true; path: string; unmount(): Promise<void> }
  | { mounted: false; reason: string };

/**
 * Mounts a tmpfs of `bytes` on `path` (created), to fill up for real.
 * Needs root (or CAP_SYS_ADMIN): otherwise the answer says why not.
 */
export async function smallDisk(
  path: string,
  bytes: number,
): Promise<SmallDisk> {
  await Deno.mkdir(path, { recursive: true });
  const mount = async (args: string[]) => {
    try {
      const out = await new Deno.Command(args[0], {
        args: args.slice(1),
        stdout: "null",
        stderr: "piped",
      }).output();
      return out.success ? "" : decoder.decode(out.stderr).trim();
    } catch (error) {
      return (error as Error).message;
    }
  };
  const failed = await mount([
    "mount",
    "-t",
    "tmpfs",
    "-o",
    `size=${bytes}`,
    "tmpfs",
    path,
  ]);
  if (failed !== "") {
    return { mounted: false, reason: `cannot mount a tmpfs: ${failed}` };
  }
  return {
    mounted: true,
    path,
    unmount: async () => {
      const error = await mount(["umount", path]);
      if (error !== "") await mount(["umount", "-l", path]);
    },
  };
}

/** Fills a small disk but for about `leave` bytes (a file named `filler`). */
export async function fill(path: string, leave: number): Promise<void> {
  const size = Math.max(0, await freeBytes(path) - leave);
  await Deno.writeFile(`${path}/filler`, new Uint8Array(size));
}

/** Free bytes on the file system holding `path` (`stat -f`). */
export async function freeBytes(path: string): Promise<number> {
  const out = await new Deno.Command("stat", {
    args: ["-f", "-c", "%f %S", path],
    stdout: "piped",
  }).output();
  const [free, size] = decoder.decode(out.stdout).trim().split(" ").map(
    Number,
  );
  return free * size;
}

/**
 * Why a tmpfs cannot be mounted here, or null: probed once, in a folder of
 * its own, and said in one line by `who` when it cannot (the tests that need
 * it are then skipped).
 */
export async function tmpfsMissing(who: string): Promise<string | null> {
  const dir = await Deno.makeTempDir({ prefix: "tmpfs_probe_" });
  const disk = await smallDisk(`${dir}/disk`, 64 * 1024);
  if (disk.mounted) await disk.unmount();
  await Deno.remove(dir, { recursive: true });
  if (disk.mounted) return null;
  console.log(`${who}: skipping the full-disk tests: ${disk.reason}`);
  return disk.reason;
}
