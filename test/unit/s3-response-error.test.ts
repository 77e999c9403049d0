import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseS3ErrorXml, S3ResponseError } from '../../plugins/s3/s3-response-error.js';
import { describeFailure, formatFailure } from '../../plugins/s3/s3-failure.js';

test('parseS3ErrorXml: the fields of an S3 error body, entities decoded; nothing from empty or non-XML bodies', () => {
  assert.deepEqual(parseS3ErrorXml('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access &amp; &lt;Denied&gt; &#233;&#x263A;</Message><RequestId>R1</RequestId><HostId>H1</HostId></Error>'),
    { Code: 'AccessDenied', Message: 'Access & <Denied> é☺', RequestId: 'R1', HostId: 'H1' });
  assert.deepEqual(parseS3ErrorXml('<Error><Code>RequestTimeTooSkewed</Code><Message>skew</Message><RequestTime>20261127T100000Z</RequestTime><ServerTime>2026-11-27T11:00:00Z</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds></Error>'),
    { Code: 'RequestTimeTooSkewed', Message: 'skew', ServerTime: '2026-11-27T11:00:00Z' });
  assert.deepEqual(parseS3ErrorXml(''), {});
  assert.deepEqual(parseS3ErrorXml('<html><body>502 Bad Gateway</body></html>'), {});
  assert.deepEqual(parseS3ErrorXml('<Error><Code>SlowDown</Code></Error>'), { Code: 'SlowDown' });
});

// The names and messages the SDK gives the same answers (measured with S3Client 3.1175 against a
// scripted server; test/plugins/s3-lean-object-path.test.ts compares both paths live).
test('S3ResponseError: named as the SDK names its exceptions, so describeFailure classifies both alike', () => {
  const cases: Array<[number, string, string, string, string]> = [
    // status, body, name, message, formatFailure
    [403, '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>', 'AccessDenied', 'Access Denied', 'HTTP 403 AccessDenied: Access Denied'],
    [403, '', 'Unknown', 'UnknownError', 'HTTP 403'],
    [404, '<Error><Code>NoSuchKey</Code><Message>The key</Message></Error>', 'NoSuchKey', 'The key', 'HTTP 404 NoSuchKey: The key'],
    [404, '', 'NotFound', 'UnknownError', 'HTTP 404 NotFound'],
    [503, '<Error><Code>SlowDown</Code></Error>', 'SlowDown', 'UnknownError', 'HTTP 503 SlowDown'],
    [500, '<html>oops</html>', 'Unknown', 'UnknownError', 'HTTP 500'],
    [400, '<Error><Code>RequestTimeout</Code><Message>slow</Message></Error>', 'RequestTimeout', 'slow', 'HTTP 400 RequestTimeout: slow'],
    [301, '<Error><Code>PermanentRedirect</Code><Message>use other</Message></Error>', 'PermanentRedirect', 'use other', 'HTTP 301 PermanentRedirect: use other'],
    [412, '<Error><Code>PreconditionFailed</Code><Message>pf</Message></Error>', 'PreconditionFailed', 'pf', 'HTTP 412 PreconditionFailed: pf'],
  ];
  for (const [status, body, name, message, formatted] of cases) {
    const error = new S3ResponseError(status, { 'x-amz-request-id': 'REQ' }, body);
    assert.equal(error.name, name, `${status} ${body}`);
    assert.equal(error.message, message);
    assert.equal(error.$metadata.httpStatusCode, status);
    assert.equal(error.$metadata.requestId, 'REQ');
    assert.equal(formatFailure(describeFailure(error)), formatted);
  }
  assert.equal(describeFailure(new S3ResponseError(404, {}, '<Error><Code>NoSuchBucket</Code><Message>x</Message></Error>')).code, 'NoSuchBucket');
  assert.equal(describeFailure(new S3ResponseError(400, {}, '<Error><Code>RequestTimeout</Code></Error>')).kind, 'throttle');
  assert.equal(describeFailure(new S3ResponseError(503, {}, '')).kind, 'server');
  assert.equal(describeFailure(new S3ResponseError(412, {}, '')).kind, 'precondition');
});
