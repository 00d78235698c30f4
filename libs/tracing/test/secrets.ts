// One of each kind of secret a request can carry.
export const SECRETS = {
  password: 'hunter2-Correct-Horse',
  accessToken: 'eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyLTEiLCJzY29wZSI6Imxpc3RlbmVyIn0.c2lnbmF0dXJlLWJ5dGVz',
  refreshToken: 'r9Jq2Xv0bN4kLm7PzA1sYt6uWc3dEf8GhIoK5lQnRpS',
  cookie: 'sid=Zm9vYmFyYmF6cXV4',
  email: 'ann.listener@example.com',
  clientAddress: '203.0.113.77',
  clientAddressV6: '2001:db8:85a3::8a2e:370:7334',
} as const;
