"""A stock boto3 program configured by environment alone (AWS_ENDPOINT_URL, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN,
AWS_REGION) reading answers Airlock masks: a secret, a SecureString parameter, a Lambda function's environment, a
DynamoDB item (botocore checks x-amz-crc32) and S3 JSON objects with checksum validation on.

Usage: python3 boto3-masking.py <secret-id> <parameter> <function> <table> <bucket> <key>...
Prints one JSON object with what boto3 parsed, and the checksum headers it validated.
"""

import json
import sys

import boto3
from botocore.config import Config

secret_id, parameter, function, table, bucket, *keys = sys.argv[1:]
# Every attempt counts: a checksum botocore refuses must fail the run, not be retried away.
config = Config(retries={'max_attempts': 1, 'mode': 'standard'}, response_checksum_validation='when_supported')
client = lambda name: boto3.client(name, config=config)

result = {}
result['secretString'] = client('secretsmanager').get_secret_value(SecretId=secret_id)['SecretString']
result['parameterValue'] = client('ssm').get_parameter(Name=parameter, WithDecryption=True)['Parameter']['Value']
result['environment'] = client('lambda').get_function_configuration(FunctionName=function)['Environment']['Variables']

# botocore compares x-amz-crc32 with the body it received (retryhandler.CRC32Checker) and raises on a mismatch.
item = client('dynamodb').get_item(TableName=table, Key={'pk': {'S': 'user#1'}})
result['item'] = item['Item']
result['itemCrc32'] = item['ResponseMetadata']['HTTPHeaders'].get('x-amz-crc32')

s3 = client('s3')
result['objects'] = {}
for key in keys:
    # ChecksumMode=ENABLED: botocore validates the x-amz-checksum-* header it gets against the body as it reads it.
    answer = s3.get_object(Bucket=bucket, Key=key, ChecksumMode='ENABLED')
    headers = answer['ResponseMetadata']['HTTPHeaders']
    result['objects'][key] = {
        'body': answer['Body'].read().decode('utf-8'),
        'checksums': {name: value for name, value in headers.items() if name.startswith('x-amz-checksum-')},
    }

print(json.dumps(result))
