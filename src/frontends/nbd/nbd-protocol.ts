/**
 * The numbers of the NBD protocol (doc/proto.md of github.com/NetworkBlockDevice/nbd), named as
 * the document names them, so a reader can look every one of them up there. Only what this
 * server speaks: fixed newstyle negotiation, simple and structured replies, STARTTLS.
 */

/** 'NBDMAGIC': the first 8 bytes the server sends. */
export const NBD_INIT_MAGIC = 0x4e42444d41474943n;
/** 'IHAVEOPT': the newstyle magic, sent by the server after NBDMAGIC and by the client before every option. */
export const NBD_OPTS_MAGIC = 0x49484156454f5054n;
/** Starts every option reply. */
export const NBD_OPTION_REPLY_MAGIC = 0x3e889045565a9n;
export const NBD_REQUEST_MAGIC = 0x25609513;
export const NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
export const NBD_STRUCTURED_REPLY_MAGIC = 0x668e33ef;

/** Handshake flags (server, 16 bits). */
export const NBD_FLAG_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_NO_ZEROES = 1 << 1;

/** Client flags (32 bits). Any other bit set: the server must drop the connection. */
export const NBD_FLAG_C_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_C_NO_ZEROES = 1 << 1;

/** Transmission flags (16 bits). */
export const NBD_FLAG_HAS_FLAGS = 1 << 0;
export const NBD_FLAG_READ_ONLY = 1 << 1;
export const NBD_FLAG_SEND_FLUSH = 1 << 2;
export const NBD_FLAG_SEND_FUA = 1 << 3;
export const NBD_FLAG_SEND_TRIM = 1 << 5;
export const NBD_FLAG_SEND_WRITE_ZEROES = 1 << 6;
export const NBD_FLAG_SEND_DF = 1 << 7;
export const NBD_FLAG_CAN_MULTI_CONN = 1 << 8;

/** Options (handshake phase). */
export const NBD_OPT_EXPORT_NAME = 1;
export const NBD_OPT_ABORT = 2;
export const NBD_OPT_LIST = 3;
export const NBD_OPT_STARTTLS = 5;
export const NBD_OPT_INFO = 6;
export const NBD_OPT_GO = 7;
export const NBD_OPT_STRUCTURED_REPLY = 8;

/** Option reply types; errors have bit 31 set. */
export const NBD_REP_ACK = 1;
export const NBD_REP_SERVER = 2;
export const NBD_REP_INFO = 3;
export const NBD_REP_ERR_UNSUP = 0x80000001;
export const NBD_REP_ERR_POLICY = 0x80000002;
export const NBD_REP_ERR_INVALID = 0x80000003;
export const NBD_REP_ERR_TLS_REQD = 0x80000005;
export const NBD_REP_ERR_UNKNOWN = 0x80000006;
export const NBD_REP_ERR_SHUTDOWN = 0x80000007;
export const NBD_REP_ERR_TOO_BIG = 0x80000009;

/** Information types of NBD_REP_INFO (NBD_OPT_INFO and NBD_OPT_GO). */
export const NBD_INFO_EXPORT = 0;
export const NBD_INFO_NAME = 1;
export const NBD_INFO_DESCRIPTION = 2;
export const NBD_INFO_BLOCK_SIZE = 3;

/** Commands (transmission phase). */
export const NBD_CMD_READ = 0;
export const NBD_CMD_WRITE = 1;
export const NBD_CMD_DISC = 2;
export const NBD_CMD_FLUSH = 3;
export const NBD_CMD_TRIM = 4;
export const NBD_CMD_WRITE_ZEROES = 6;

/** Command flags (16 bits). */
export const NBD_CMD_FLAG_FUA = 1 << 0;
export const NBD_CMD_FLAG_NO_HOLE = 1 << 1;
export const NBD_CMD_FLAG_DF = 1 << 2;

/** Structured reply flags and chunk types. */
export const NBD_REPLY_FLAG_DONE = 1 << 0;
export const NBD_REPLY_TYPE_NONE = 0;
export const NBD_REPLY_TYPE_OFFSET_DATA = 1;
export const NBD_REPLY_TYPE_ERROR = 0x8001;
export const NBD_REPLY_TYPE_ERROR_OFFSET = 0x8002;

/** Error values of replies: the protocol's own list, not the host's errno. */
export const NBD_EPERM = 1;
export const NBD_EIO = 5;
export const NBD_ENOMEM = 12;
export const NBD_EINVAL = 22;
export const NBD_ENOSPC = 28;
export const NBD_EOVERFLOW = 75;
export const NBD_ENOTSUP = 95;
export const NBD_ESHUTDOWN = 108;

/** Bytes of a request header: magic, flags, type, cookie, offset, length. */
export const REQUEST_HEADER_LENGTH = 28;
/** Bytes of a simple reply header: magic, error, cookie. */
export const SIMPLE_REPLY_HEADER_LENGTH = 16;
/** Bytes of a structured reply chunk header: magic, flags, type, cookie, length. */
export const STRUCTURED_REPLY_HEADER_LENGTH = 20;
/** The longest string (export name, error message) the protocol allows. */
export const MAX_STRING_BYTES = 4096;
/** The IANA port of NBD, for messages. */
export const NBD_DEFAULT_PORT = 10809;
