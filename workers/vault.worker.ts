/**
 * Vault worker entry: exposes the vault API over Comlink. An adapter only — all logic lives in
 * workers/engine so it can be tested in Node without a worker.
 */
import { expose } from 'comlink';
import { VaultApi } from './engine/vault-api';

expose(new VaultApi());
