// The create options of a container that replaces another with a new image, read from the old
// container's `docker inspect`: every setting the operator gave the container (command, env,
// mounts and volumes, network, ports, labels, restart policy, memory, user, ...) is kept; what
// the container only inherited from its old image (that image's CMD, ENTRYPOINT, ENV, LABELs,
// USER, WORKDIR, HEALTHCHECK, EXPOSE, VOLUME) is left out so the new image's own values apply,
// as `docker run NEWIMAGE` with the same flags would. Pure (unit-tested).
import type Dockerode from 'dockerode';

type Obj = Record<string, unknown>;

/** The parts of an image's Config that a container inherits. */
export interface ImageDefaults {
  Cmd?: string[] | null;
  Entrypoint?: string[] | string | null;
  Env?: string[] | null;
  Labels?: Record<string, string> | null;
  User?: string;
  WorkingDir?: string;
  Healthcheck?: unknown;
  ExposedPorts?: Record<string, unknown> | null;
  StopSignal?: string;
  Volumes?: Record<string, unknown> | null;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * A volume that exists only as an anonymous volume (the image's VOLUME or `-v /path`) is not in
 * HostConfig.Binds/Mounts: a new container would get a fresh, empty one. Bind the existing
 * volume by name at the same path instead, so its data carries over.
 */
function anonymousVolumeBinds(info: Dockerode.ContainerInspectInfo): string[] {
  const hc = (info.HostConfig ?? {}) as Obj;
  const covered = new Set<string>();
  for (const b of (hc.Binds as string[] | null | undefined) ?? []) {
    const parts = b.split(':');
    if (parts[1]) covered.add(parts[1]);
  }
  for (const m of (hc.Mounts as Array<{ Target?: string }> | null | undefined) ?? []) if (m.Target) covered.add(m.Target);
  const out: string[] = [];
  for (const m of (info.Mounts ?? []) as Array<{ Type?: string; Name?: string; Destination: string; RW?: boolean }>) {
    if (m.Type !== 'volume' || !m.Name || covered.has(m.Destination)) continue;
    out.push(`${m.Name}:${m.Destination}${m.RW === false ? ':ro' : ''}`);
  }
  return out;
}

const NETWORK_MODES_WITHOUT_ENDPOINT = /^(host|none|default|bridge|container:.*)$/;

export function createOptionsFrom(info: Dockerode.ContainerInspectInfo, oldImage: ImageDefaults, image: string, name: string): Dockerode.ContainerCreateOptions {
  const c = (info.Config ?? {}) as unknown as Obj & ImageDefaults & { Hostname?: string };
  const opts: Obj = { name, Image: image };
  // the hostname docker makes up is the short container id: a new container gets its own
  const shortId = info.Id.slice(0, 12);
  if (c.Hostname && c.Hostname !== shortId) opts.Hostname = c.Hostname;
  for (const k of ['Domainname', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'NetworkDisabled', 'StopTimeout', 'Shell']) {
    if (c[k] !== undefined && c[k] !== null && c[k] !== '') opts[k] = c[k];
  }
  if (c.User && c.User !== (oldImage.User ?? '')) opts.User = c.User;
  if (c.WorkingDir && c.WorkingDir !== (oldImage.WorkingDir ?? '')) opts.WorkingDir = c.WorkingDir;
  if (c.StopSignal && c.StopSignal !== (oldImage.StopSignal ?? '')) opts.StopSignal = c.StopSignal;
  // ENTRYPOINT and CMD go together: an overridden entrypoint keeps its command as it is
  const epOverridden = !same(c.Entrypoint, oldImage.Entrypoint);
  if (epOverridden) opts.Entrypoint = c.Entrypoint ?? [];
  if (epOverridden || !same(c.Cmd, oldImage.Cmd)) { if (c.Cmd) opts.Cmd = c.Cmd; }
  const imageEnv = new Set(oldImage.Env ?? []);
  const env = (c.Env ?? []).filter((e) => !imageEnv.has(e));
  if (env.length) opts.Env = env;
  const imageLabels = oldImage.Labels ?? {};
  const labels = Object.fromEntries(Object.entries(c.Labels ?? {}).filter(([k, v]) => imageLabels[k] !== v));
  if (Object.keys(labels).length) opts.Labels = labels;
  if (!same(c.Healthcheck, oldImage.Healthcheck) && c.Healthcheck) opts.Healthcheck = c.Healthcheck;
  const imagePorts = oldImage.ExposedPorts ?? {};
  const ports = Object.fromEntries(Object.entries(c.ExposedPorts ?? {}).filter(([k]) => !(k in imagePorts)));
  if (Object.keys(ports).length) opts.ExposedPorts = ports;
  const hc: Obj = { ...(info.HostConfig as unknown as Obj) };
  const anon = anonymousVolumeBinds(info);
  if (anon.length) hc.Binds = [...((hc.Binds as string[] | null) ?? []), ...anon];
  opts.HostConfig = hc;
  const mode = String(hc.NetworkMode ?? '');
  const ep = (info.NetworkSettings?.Networks as Record<string, Obj> | undefined)?.[mode];
  if (mode && !NETWORK_MODES_WITHOUT_ENDPOINT.test(mode) && ep) {
    const aliases = ((ep.Aliases as string[] | null) ?? []).filter((a) => a !== shortId && a !== info.Id);
    opts.NetworkingConfig = { EndpointsConfig: { [mode]: {
      ...(aliases.length ? { Aliases: aliases } : {}), ...(ep.IPAMConfig ? { IPAMConfig: ep.IPAMConfig } : {}),
      ...(ep.Links ? { Links: ep.Links } : {}), ...(ep.DriverOpts ? { DriverOpts: ep.DriverOpts } : {}) } } };
  }
  return opts as Dockerode.ContainerCreateOptions;
}
