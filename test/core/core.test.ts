import { checksumAnnotations, CONFIG_CHECKSUM_ANNOTATION, configChecksum } from '../../lib/core/checksum';
import { selectorLabels, standardLabels, topologySelector } from '../../lib/core/labels';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../../lib/core/pod-security';

const id = { name: 'redis', instance: 'cache', component: 'data', partOf: 'sentinel-redis' };

describe('labels', () => {
  test('the five recommended labels on everything', () => {
    expect(standardLabels(id)).toEqual({
      'app.kubernetes.io/name': 'redis',
      'app.kubernetes.io/instance': 'cache',
      'app.kubernetes.io/component': 'data',
      'app.kubernetes.io/part-of': 'sentinel-redis',
      'app.kubernetes.io/managed-by': 'redis-topologies',
    });
  });
  test('selectors use only the stable subset', () => {
    const sel = selectorLabels(id);
    expect(Object.keys(sel).sort()).toEqual(['app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/name']);
    for (const [k, v] of Object.entries(sel)) expect(standardLabels(id)[k]).toBe(v);
    expect(topologySelector('cache', 'sentinel-redis')).toEqual({ 'app.kubernetes.io/instance': 'cache', 'app.kubernetes.io/part-of': 'sentinel-redis' });
  });
});

describe('pod security (restricted profile)', () => {
  test('pod context: non-root fixed uid, RuntimeDefault seccomp', () => {
    const pod = restrictedPodSecurityContext({ uid: 999 });
    expect(pod).toMatchObject({ runAsNonRoot: true, runAsUser: '999', runAsGroup: '999', fsGroup: '999', seccompProfile: { type: 'RuntimeDefault' } });
  });
  test('container context: no escalation, drop ALL, read-only root', () => {
    const c = restrictedContainerSecurityContext({ uid: 99, gid: 99 });
    expect(c).toMatchObject({
      allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(restrictedContainerSecurityContext({ uid: 99 }, false).readOnlyRootFilesystem).toBe(false);
  });
  test('root is refused', () => {
    expect(() => restrictedPodSecurityContext({ uid: 0 })).toThrow(/root is not allowed/);
    expect(() => restrictedContainerSecurityContext({ uid: 999, gid: 0 })).toThrow(/gid/);
  });
});

describe('config checksum', () => {
  test('stable for the same content, whatever the key order', () => {
    expect(configChecksum({ a: '1', b: '2' })).toBe(configChecksum({ b: '2', a: '1' }));
  });
  test('changes when any file changes, or moves between documents', () => {
    const base = configChecksum({ 'redis.conf': 'port 6379' }, { 'sentinel.conf': 'x' });
    expect(configChecksum({ 'redis.conf': 'port 6380' }, { 'sentinel.conf': 'x' })).not.toBe(base);
    expect(configChecksum({ 'redis.conf': 'port 6379', 'sentinel.conf': 'x' })).not.toBe(base);
  });
  test('is a pod-template annotation', () => {
    const ann = checksumAnnotations({ f: 'x' });
    expect(Object.keys(ann)).toEqual([CONFIG_CHECKSUM_ANNOTATION]);
    expect(ann[CONFIG_CHECKSUM_ANNOTATION]).toMatch(/^[0-9a-f]{64}$/);
  });
});
