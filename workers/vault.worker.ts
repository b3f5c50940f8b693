/**
 * Vault worker entry: serves the vault contract over Comlink. An adapter only — all logic lives
 * in workers/engine so it can be tested in Node without a worker. Only the contract's methods are
 * reachable (comlink-allowlist.ts).
 */
import { expose, type Endpoint } from 'comlink';
import { VAULT_METHODS } from '../src/lib/vault/contract';
import { serveVault } from '../src/lib/vault/remote';
import { allowlistEndpoint, type MessageEndpoint } from './engine/comlink-allowlist';
import { VaultService } from './engine/vault-api';

expose(serveVault(new VaultService()), allowlistEndpoint(globalThis as unknown as MessageEndpoint, VAULT_METHODS) as unknown as Endpoint);
