// Crash safety of an import (pwned-import.ts): the store is written to `<out>.partial`, and every so
// often the records are fsynced and a checkpoint written beside it, `<out>.partial.state` (JSON position
// and report, a line break, then the per-prefix counts as u32 little-endian), by write-and-rename. A
// later run over the same input resumes from it. Checkpoints are taken only between prefixes, so a
// resumed import produces exactly the bytes an uninterrupted one would.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync } from 'node:fs';
import { writeAll } from './pwned-import-files.js';
import type { ImportReport } from './pwned-import-report.js';
import { HEADER_BYTES, PREFIXES, prefixOf, RECORD_BYTES } from './pwned-store.js';

const STATE_FORMAT = 'resetguard-pwned-import-checkpoint';
const STATE_VERSION = 1;

export type Source = { kind: 'file'; path: string; size: number; mtimeMs: number } | { kind: 'folder'; path: string };
/** Where a resumed run picks up: a line of the single file, or the next prefix file of a folder. */
export type FilePosition = { offset: number; line: number; prevHash: string | null; prevLine: number };
export type FolderPosition = { nextPrefix: number };
export type Position = FilePosition | FolderPosition;

export interface Checkpoint {
  format: typeof STATE_FORMAT;
  version: number;
  source: Source;
  recordBytes: number;
  position: Position;
  report: ImportReport;
}

export const partialPathOf = (out: string) => `${out}.partial`;
export const statePathOf = (out: string) => `${out}.partial.state`;

/**
 * The checkpoint of `outPath` for this same input, whose partial file holds what it claims, with the
 * per-prefix counts up to its position; or null (and `onNote` says why when one was there).
 */
export function readCheckpoint(outPath: string, source: Source, onNote?: (message: string) => void): { state: Checkpoint; counts: Uint32Array } | null {
  const statePath = statePathOf(outPath);
  if (!existsSync(statePath)) return null;
  const startOver = (why: string) => {
    onNote?.(`starting over: ${why}`);
    return null;
  };
  let state: Checkpoint;
  let counts: Buffer;
  try {
    const raw = readFileSync(statePath);
    const nl = raw.indexOf(10);
    state = JSON.parse(raw.toString('utf8', 0, nl)) as Checkpoint;
    counts = raw.subarray(nl + 1);
  } catch {
    return startOver('the checkpoint file is unreadable');
  }
  if (state.format !== STATE_FORMAT || state.version !== STATE_VERSION || counts.length !== PREFIXES * 4) return startOver('the checkpoint file is not one this version wrote');
  if (JSON.stringify(state.source) !== JSON.stringify(source)) return startOver('the checkpoint is for another input (or the input changed since)');
  let partialSize = -1;
  try {
    partialSize = statSync(partialPathOf(outPath)).size;
  } catch {
    // checked below
  }
  if (partialSize < HEADER_BYTES + state.recordBytes) return startOver('the partial store is missing or shorter than its checkpoint');
  // Prefixes after the checkpoint may have been counted in memory but were never checkpointed.
  const restored = new Uint32Array(PREFIXES);
  const limit = 'offset' in state.position ? (state.position.prevHash ? prefixOf(Buffer.from(state.position.prevHash, 'hex')) + 1 : 0) : state.position.nextPrefix;
  let total = 0;
  for (let p = 0; p < limit; p++) total += restored[p] = counts.readUInt32LE(p * 4);
  if (total * RECORD_BYTES !== state.recordBytes) return startOver('the checkpoint is inconsistent');
  return { state, counts: restored };
}

/** Writes the checkpoint by write-and-rename; the records it counts must already be synced. */
export function writeCheckpoint(outPath: string, fields: Omit<Checkpoint, 'format' | 'version'>, counts: Uint32Array): void {
  const state: Checkpoint = { format: STATE_FORMAT, version: STATE_VERSION, ...fields };
  // Little-endian whatever the machine: readCheckpoint reads it with readUInt32LE.
  const countBytes = Buffer.allocUnsafe(PREFIXES * 4);
  for (let p = 0; p < PREFIXES; p++) countBytes.writeUInt32LE(counts[p]!, p * 4);
  const header = Buffer.from(JSON.stringify(state) + '\n', 'utf8');
  const statePath = statePathOf(outPath);
  const tmp = `${statePath}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, header, 0);
    writeAll(fd, countBytes, header.length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, statePath);
}
