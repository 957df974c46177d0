import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A podman of the test run's own: its configuration, storage and temporary files all live in one
 * directory, so nothing is shared with a system podman or another run, and removing the
 * directory removes everything. No registry: images are made from the host's files.
 */
export interface PodmanEnv {
  /** The run's directory (storage, configuration, temporary files, build contexts). */
  readonly dir: string;
  /** podman's global flags: every setting also on the command line, so no system file can win. */
  readonly flags: readonly string[];
  /** The environment podman runs with (the private configuration files, TMPDIR). */
  readonly env: NodeJS.ProcessEnv;
}

// podman's defaults fail here: crun is not installed or refuses hybrid cgroups, RLIMIT_NOFILE
// 1048576 exceeds the hard limit ("error setting rlimit type 7"), NPROC too ("type 6"), there is
// no systemd for cgroups, journald or events, and a missing image would be looked for in
// registries (it asked https://localhost/v2/ for a localhost/ name).
const containersConf = (dir: string): string => `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
log_driver = "k8s-file"
[engine]
runtime = "runc"
pull_policy = "never"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "${dir}/tmp"
`;

// Short names resolve nowhere, and the usual registries are blocked: a test never pulls.
const registriesConf = `unqualified-search-registries = []
short-name-mode = "enforcing"
${['docker.io', 'quay.io', 'ghcr.io', 'gcr.io', 'registry.fedoraproject.org'].map((r) => `[[registry]]\nlocation = "${r}"\nblocked = true\n`).join('')}`;

const storageConf = (dir: string): string => `[storage]
driver = "overlay"
graphroot = "${dir}/root"
runroot = "${dir}/runroot"
`;

export function podmanEnv(dir: string): PodmanEnv {
  return {
    dir,
    flags: ['--root', `${dir}/root`, '--runroot', `${dir}/runroot`, '--tmpdir', `${dir}/tmp`, '--runtime', 'runc',
      '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'overlay'],
    env: {
      ...process.env,
      CONTAINERS_CONF: path.join(dir, 'conf/containers.conf'),
      CONTAINERS_REGISTRIES_CONF: path.join(dir, 'conf/registries.conf'),
      CONTAINERS_STORAGE_CONF: path.join(dir, 'conf/storage.conf'),
      TMPDIR: path.join(dir, 'tmp'),
    },
  };
}

/** Creates the run's directory and writes the three configuration files. */
export function createPodmanEnv(dir: string): PodmanEnv {
  for (const sub of ['root', 'runroot', 'tmp', 'conf']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'conf/containers.conf'), containersConf(dir));
  writeFileSync(path.join(dir, 'conf/registries.conf'), registriesConf);
  writeFileSync(path.join(dir, 'conf/storage.conf'), storageConf(dir));
  return podmanEnv(dir);
}
