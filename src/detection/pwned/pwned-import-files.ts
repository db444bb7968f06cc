// The file system around an import (pwned-import.ts): one import per output at a time (a lock file that
// a crashed import's successor can take over), and durable whole writes.
import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { ImportError } from './pwned-import-report.js';

const lockPathOf = (out: string) => `${out}.lock`;

/** Two imports writing one partial file would corrupt it: takes `<out>.lock`; returns its release. */
export function lockOutput(outPath: string): () => void {
  const lock = lockPathOf(outPath);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      return () => rmQuiet(lock);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new ImportError(`another import (pid ${pid}) is writing ${outPath}; if it is gone, delete ${lock}`);
    }
    unlinkSync(lock); // left by a crashed import
  }
  throw new ImportError(`cannot take the lock ${lock}`);
}

export function writeAll(fd: number, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
}

export function fsyncDir(dir: string): void {
  // Makes the rename durable. Not every platform lets a directory be opened for this; there the rename
  // is still atomic, only its durability across a power cut is the file system's.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // see above
  }
}

export function fstatSize(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

export function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there: nothing to remove
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
