import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Credentials from the SDK's chain (IRSA on EKS); a local stand-in (an endpoint set) takes any. Adaptive retries back
 * off on throttling (ProvisionedThroughputExceeded, ThrottlingException) before an error reaches our code.
 */
export function createDynamoClient(config: { AWS_REGION: string; AWS_ENDPOINT_URL_DYNAMODB?: string | undefined }): DynamoDBClient {
  const local = config.AWS_ENDPOINT_URL_DYNAMODB;
  return new DynamoDBClient({
    region: config.AWS_REGION,
    maxAttempts: 8,
    retryMode: 'adaptive',
    ...(local ? { endpoint: local, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
}
