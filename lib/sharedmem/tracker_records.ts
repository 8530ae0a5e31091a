// The records the resource tracker reads from its pipe: command byte, type
// byte, name length (u16 LE), the name in UTF-8. No byte of a name can be
// taken for the start of another record, and a record is at most PIPE_BUF
// bytes, so the kernel writes it whole, never interleaved with another
// process's. Shared by the client (resource_tracker.ts) and the tracker
// (entry/resource_tracker_main.ts), which loads nothing else of ours.

/** 'folder': a directory of this package's own (the forkserver's socket), removed without a warning. */
export type ResourceType = 'shared_memory' | 'semaphore' | 'folder';
export type Command = 'REGISTER' | 'UNREGISTER';

const COMMANDS: readonly Command[] = ['REGISTER', 'UNREGISTER'];
const TYPES: readonly ResourceType[] = ['shared_memory', 'semaphore', 'folder'];
const HEADER_BYTES = 4;
/** POSIX's smallest PIPE_BUF. */
const RECORD_MAX_BYTES = 512;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** The one record for `command` of `name`; RangeError for a name no record can carry. */
export function encodeRecord(command: Command, name: string, type: ResourceType): Buffer {
  if (CONTROL_CHARACTERS.test(name)) {
    throw new RangeError(`a resource name must not contain control characters; received ${JSON.stringify(name)}`);
  }
  const bytes = Buffer.byteLength(name);
  if (bytes === 0 || bytes > RECORD_MAX_BYTES - HEADER_BYTES) {
    throw new RangeError(`a resource name must be 1 to ${RECORD_MAX_BYTES - HEADER_BYTES} bytes of UTF-8; received ${bytes}`);
  }
  const record = Buffer.allocUnsafe(HEADER_BYTES + bytes);
  record[0] = COMMANDS.indexOf(command);
  record[1] = TYPES.indexOf(type);
  record.writeUInt16LE(bytes, 2);
  record.write(name, HEADER_BYTES, 'utf8');
  return record;
}

export interface TrackerRecord {
  command: Command;
  type: ResourceType;
  name: string;
}

/**
 * Takes the whole records at the start of `bytes`: the records, how many
 * bytes they used (a record still arriving stays for the next call), and,
 * when bytes follow that are no record, what is wrong with them (nothing
 * after them can be read).
 */
export function decodeRecords(bytes: Buffer): { records: TrackerRecord[]; used: number; malformed: string | null } {
  const records: TrackerRecord[] = [];
  let at = 0;
  while (bytes.length - at >= HEADER_BYTES) {
    const command = COMMANDS[bytes[at]];
    const type = TYPES[bytes[at + 1]];
    const length = bytes.readUInt16LE(at + 2);
    if (command === undefined || type === undefined || length === 0 || length > RECORD_MAX_BYTES - HEADER_BYTES) {
      return { records, used: at, malformed: `not a resource tracker record: ${bytes.subarray(at, at + HEADER_BYTES).toString('hex')}` };
    }
    if (bytes.length - at < HEADER_BYTES + length) break;
    const name = bytes.toString('utf8', at + HEADER_BYTES, at + HEADER_BYTES + length);
    if (CONTROL_CHARACTERS.test(name)) {
      return { records, used: at, malformed: `a resource name with control characters: ${JSON.stringify(name)}` };
    }
    records.push({ command, type, name });
    at += HEADER_BYTES + length;
  }
  return { records, used: at, malformed: null };
}
