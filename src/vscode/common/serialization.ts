import { VSBuffer } from '../base/buffer';

// VS Code's value serialization, kept for code that calls it directly (and for the context an IPCClient sends
// first). Calls themselves go through fdpipe's codec, which carries more types (Maps, Dates, errors, cycles
// refused) than this JSON-based format.

export interface IReader {
  read(bytes: number): VSBuffer;
}

export interface IWriter {
  write(buffer: VSBuffer): void;
}

export class BufferReader implements IReader {
  private pos = 0;

  constructor(private readonly buffer: VSBuffer) {}

  read(bytes: number): VSBuffer {
    const result = this.buffer.slice(this.pos, this.pos + bytes);
    this.pos += result.byteLength;
    return result;
  }
}

export class BufferWriter implements IWriter {
  private buffers: VSBuffer[] = [];

  get buffer(): VSBuffer {
    return VSBuffer.concat(this.buffers);
  }

  write(buffer: VSBuffer): void {
    this.buffers.push(buffer);
  }

  dispose(): void {
    this.buffers = [];
  }
}

/** A value serialize() wrote that deserialize() cannot read: truncated, or of a kind it does not know. */
export class DeserializeError extends Error {
  override name = 'DeserializeError';
}

const enum DataType {
  Undefined = 0,
  String = 1,
  Buffer = 2,
  VSBuffer = 3,
  Array = 4,
  Object = 5,
  Int = 6,
}

function writeByte(writer: IWriter, value: number): void {
  const one = VSBuffer.alloc(1);
  one.writeUInt8(value, 0);
  writer.write(one);
}

/** 7 bits a byte, low first; a negative 32-bit integer goes as its unsigned bits (five bytes). */
function writeVarint(writer: IWriter, value: number): void {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  writer.write(VSBuffer.fromByteArray(bytes));
}

function readByte(reader: IReader): number {
  const one = reader.read(1);
  if (one.byteLength !== 1) throw new DeserializeError('The data ends in the middle of a value');
  return one.readUInt8(0);
}

function readVarint(reader: IReader): number {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    const byte = readByte(reader);
    // `|` makes a 32-bit signed result, so a negative integer comes back as itself.
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return value;
  }
  throw new DeserializeError('A length runs past five bytes');
}

function readExactly(reader: IReader, length: number): VSBuffer {
  const bytes = reader.read(length);
  if (bytes.byteLength !== length) throw new DeserializeError('The data ends in the middle of a value');
  return bytes;
}

function writeSized(writer: IWriter, type: DataType, bytes: VSBuffer): void {
  writeByte(writer, type);
  writeVarint(writer, bytes.byteLength);
  writer.write(bytes);
}

export function serialize(writer: IWriter, data: unknown): void {
  if (data === undefined) {
    writeByte(writer, DataType.Undefined);
  } else if (typeof data === 'string') {
    writeSized(writer, DataType.String, VSBuffer.fromString(data));
  } else if (VSBuffer.isNativeBuffer(data)) {
    writeSized(writer, DataType.Buffer, VSBuffer.wrap(data));
  } else if (data instanceof VSBuffer) {
    writeSized(writer, DataType.VSBuffer, data);
  } else if (Array.isArray(data)) {
    writeByte(writer, DataType.Array);
    writeVarint(writer, data.length);
    for (const item of data) serialize(writer, item);
  } else if (typeof data === 'number' && (data | 0) === data) {
    writeByte(writer, DataType.Int);
    writeVarint(writer, data);
  } else {
    writeSized(writer, DataType.Object, VSBuffer.fromString(JSON.stringify(data)));
  }
}

/** Reads one value serialize() wrote. @throws DeserializeError on truncated or unknown data. */
export function deserialize(reader: IReader): unknown {
  const type = readByte(reader);
  switch (type) {
    case DataType.Undefined:
      return undefined;
    case DataType.String:
      return readExactly(reader, readVarint(reader)).toString();
    case DataType.Buffer:
      return readExactly(reader, readVarint(reader)).buffer;
    case DataType.VSBuffer:
      return readExactly(reader, readVarint(reader));
    case DataType.Array: {
      const length = readVarint(reader);
      const result: unknown[] = [];
      for (let i = 0; i < length; i++) result.push(deserialize(reader));
      return result;
    }
    case DataType.Object:
      try {
        return JSON.parse(readExactly(reader, readVarint(reader)).toString());
      } catch (error) {
        throw error instanceof DeserializeError ? error : new DeserializeError(`Not JSON: ${(error as Error).message}`);
      }
    case DataType.Int:
      return readVarint(reader);
    default:
      throw new DeserializeError(`Unknown data type ${type}`);
  }
}
