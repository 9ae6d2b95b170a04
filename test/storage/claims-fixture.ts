/** The SentinelRedis the claim tests synthesize, on an encrypted class of a given size. */
import { Construct } from 'constructs';
import { DataStorage, EncryptedStorageClass, SentinelRedis, SentinelRedisProps } from '../../lib';
import { synth, Synthed } from '../helpers';

export function encrypted(scope: Construct, size: string, storageClassName = 'enc'): DataStorage {
  return DataStorage.encrypted(EncryptedStorageClass.fromExisting(scope, 'Sc', { storageClassName, vouchedBy: 'test' }), size);
}

export function build(size: string, over: Partial<SentinelRedisProps> = {}, storage?: (s: Construct) => DataStorage): Synthed {
  return synth((s) => {
    new SentinelRedis(s, 'Cache', { namespace: 'data', storage: storage ? storage(s) : encrypted(s, size), ...over });
  });
}

