/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment ViewerFields on User {\n    id\n    email\n    username\n    firstName\n    lastName\n    isStaff\n    emailVerified\n  }\n": typeof types.ViewerFieldsFragmentDoc,
    "\n  fragment AuthPayloadFields on AuthPayload {\n    accessToken\n    accessTokenExpiresAt\n    user {\n      ...ViewerFields\n    }\n  }\n": typeof types.AuthPayloadFieldsFragmentDoc,
    "\n  query Viewer {\n    me {\n      ...ViewerFields\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  mutation Refresh {\n    refresh {\n      ...AuthPayloadFields\n    }\n  }\n": typeof types.RefreshDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n": typeof types.RegisterDocument,
    "\n  mutation Logout($everywhere: Boolean!) {\n    logout(everywhere: $everywhere)\n  }\n": typeof types.LogoutDocument,
    "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input)\n  }\n": typeof types.ChangePasswordDocument,
    "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n": typeof types.RequestPasswordResetDocument,
    "\n  query MyProfile {\n    me {\n      id\n      email\n      username\n      firstName\n      lastName\n      emailVerified\n      dateJoined\n      profile {\n        id\n        phone\n        address\n        preferences\n        updatedAt\n      }\n    }\n  }\n": typeof types.MyProfileDocument,
    "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) {\n      id\n      username\n      firstName\n      lastName\n      profile {\n        id\n        phone\n        address\n        preferences\n        updatedAt\n      }\n    }\n  }\n": typeof types.UpdateProfileDocument,
    "\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n": typeof types.RequestEmailVerificationDocument,
    "\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword)\n  }\n": typeof types.ResetPasswordDocument,
    "\n  query MySessions {\n    me {\n      id\n      sessions {\n        id\n        createdAt\n        lastUsedAt\n        expiresAt\n        userAgent\n        ipAddress\n        current\n      }\n    }\n  }\n": typeof types.MySessionsDocument,
    "\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n": typeof types.RevokeSessionDocument,
    "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      email\n      emailVerified\n    }\n  }\n": typeof types.VerifyEmailDocument,
    "\n  fragment AuditEntryFields on AuditLog {\n    id\n    action\n    modelName\n    objectId\n    changes\n    ipAddress\n    createdAt\n    user {\n      id\n      email\n    }\n  }\n": typeof types.AuditEntryFieldsFragmentDoc,
    "\n  query AuditLogs($first: Int, $after: String, $last: Int, $before: String, $filter: AuditLogFilter) {\n    auditLogs(first: $first, after: $after, last: $last, before: $before, filter: $filter) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          ...AuditEntryFields\n        }\n      }\n    }\n  }\n": typeof types.AuditLogsDocument,
    "\n  subscription AuditLogAdded($filter: AuditLogFilter) {\n    auditLogAdded(filter: $filter) {\n      ...AuditEntryFields\n    }\n  }\n": typeof types.AuditLogAddedDocument,
    "\n  query StaffUsers(\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $filter: UserFilter\n    $orderBy: UserOrder\n  ) {\n    users(\n      first: $first\n      after: $after\n      last: $last\n      before: $before\n      filter: $filter\n      orderBy: $orderBy\n    ) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          email\n          username\n          firstName\n          lastName\n          isActive\n          isStaff\n          emailVerified\n          dateJoined\n          lastLogin\n        }\n      }\n    }\n  }\n": typeof types.StaffUsersDocument,
    "\n  mutation DeactivateUser($id: ID!) {\n    deactivateUser(id: $id) {\n      id\n      isActive\n    }\n  }\n": typeof types.DeactivateUserDocument,
    "\n  mutation ReactivateUser($id: ID!) {\n    reactivateUser(id: $id) {\n      id\n      isActive\n    }\n  }\n": typeof types.ReactivateUserDocument,
};
const documents: Documents = {
    "\n  fragment ViewerFields on User {\n    id\n    email\n    username\n    firstName\n    lastName\n    isStaff\n    emailVerified\n  }\n": types.ViewerFieldsFragmentDoc,
    "\n  fragment AuthPayloadFields on AuthPayload {\n    accessToken\n    accessTokenExpiresAt\n    user {\n      ...ViewerFields\n    }\n  }\n": types.AuthPayloadFieldsFragmentDoc,
    "\n  query Viewer {\n    me {\n      ...ViewerFields\n    }\n  }\n": types.ViewerDocument,
    "\n  mutation Refresh {\n    refresh {\n      ...AuthPayloadFields\n    }\n  }\n": types.RefreshDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n": types.LoginDocument,
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n": types.RegisterDocument,
    "\n  mutation Logout($everywhere: Boolean!) {\n    logout(everywhere: $everywhere)\n  }\n": types.LogoutDocument,
    "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input)\n  }\n": types.ChangePasswordDocument,
    "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n": types.RequestPasswordResetDocument,
    "\n  query MyProfile {\n    me {\n      id\n      email\n      username\n      firstName\n      lastName\n      emailVerified\n      dateJoined\n      profile {\n        id\n        phone\n        address\n        preferences\n        updatedAt\n      }\n    }\n  }\n": types.MyProfileDocument,
    "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) {\n      id\n      username\n      firstName\n      lastName\n      profile {\n        id\n        phone\n        address\n        preferences\n        updatedAt\n      }\n    }\n  }\n": types.UpdateProfileDocument,
    "\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n": types.RequestEmailVerificationDocument,
    "\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword)\n  }\n": types.ResetPasswordDocument,
    "\n  query MySessions {\n    me {\n      id\n      sessions {\n        id\n        createdAt\n        lastUsedAt\n        expiresAt\n        userAgent\n        ipAddress\n        current\n      }\n    }\n  }\n": types.MySessionsDocument,
    "\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n": types.RevokeSessionDocument,
    "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      email\n      emailVerified\n    }\n  }\n": types.VerifyEmailDocument,
    "\n  fragment AuditEntryFields on AuditLog {\n    id\n    action\n    modelName\n    objectId\n    changes\n    ipAddress\n    createdAt\n    user {\n      id\n      email\n    }\n  }\n": types.AuditEntryFieldsFragmentDoc,
    "\n  query AuditLogs($first: Int, $after: String, $last: Int, $before: String, $filter: AuditLogFilter) {\n    auditLogs(first: $first, after: $after, last: $last, before: $before, filter: $filter) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          ...AuditEntryFields\n        }\n      }\n    }\n  }\n": types.AuditLogsDocument,
    "\n  subscription AuditLogAdded($filter: AuditLogFilter) {\n    auditLogAdded(filter: $filter) {\n      ...AuditEntryFields\n    }\n  }\n": types.AuditLogAddedDocument,
    "\n  query StaffUsers(\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $filter: UserFilter\n    $orderBy: UserOrder\n  ) {\n    users(\n      first: $first\n      after: $after\n      last: $last\n      before: $before\n      filter: $filter\n      orderBy: $orderBy\n    ) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          email\n          username\n          firstName\n          lastName\n          isActive\n          isStaff\n          emailVerified\n          dateJoined\n          lastLogin\n        }\n      }\n    }\n  }\n": types.StaffUsersDocument,
    "\n  mutation DeactivateUser($id: ID!) {\n    deactivateUser(id: $id) {\n      id\n      isActive\n    }\n  }\n": types.DeactivateUserDocument,
    "\n  mutation ReactivateUser($id: ID!) {\n    reactivateUser(id: $id) {\n      id\n      isActive\n    }\n  }\n": types.ReactivateUserDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ViewerFields on User {\n    id\n    email\n    username\n    firstName\n    lastName\n    isStaff\n    emailVerified\n  }\n"): (typeof documents)["\n  fragment ViewerFields on User {\n    id\n    email\n    username\n    firstName\n    lastName\n    isStaff\n    emailVerified\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AuthPayloadFields on AuthPayload {\n    accessToken\n    accessTokenExpiresAt\n    user {\n      ...ViewerFields\n    }\n  }\n"): (typeof documents)["\n  fragment AuthPayloadFields on AuthPayload {\n    accessToken\n    accessTokenExpiresAt\n    user {\n      ...ViewerFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    me {\n      ...ViewerFields\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    me {\n      ...ViewerFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Refresh {\n    refresh {\n      ...AuthPayloadFields\n    }\n  }\n"): (typeof documents)["\n  mutation Refresh {\n    refresh {\n      ...AuthPayloadFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n"): (typeof documents)["\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n"): (typeof documents)["\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout($everywhere: Boolean!) {\n    logout(everywhere: $everywhere)\n  }\n"): (typeof documents)["\n  mutation Logout($everywhere: Boolean!) {\n    logout(everywhere: $everywhere)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input)\n  }\n"): (typeof documents)["\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n"): (typeof documents)["\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyProfile {\n    me {\n      id\n      email\n      username\n      firstName\n      lastName\n      emailVerified\n      dateJoined\n      profile {\n        id\n        phone\n        address\n        preferences\n        updatedAt\n      }\n    }\n  }\n"): (typeof documents)["\n  query MyProfile {\n    me {\n      id\n      email\n      username\n      firstName\n      lastName\n      emailVerified\n      dateJoined\n      profile {\n        id\n        phone\n        address\n        preferences\n        updatedAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) {\n      id\n      username\n      firstName\n      lastName\n      profile {\n        id\n        phone\n        address\n        preferences\n        updatedAt\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) {\n      id\n      username\n      firstName\n      lastName\n      profile {\n        id\n        phone\n        address\n        preferences\n        updatedAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n"): (typeof documents)["\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword)\n  }\n"): (typeof documents)["\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MySessions {\n    me {\n      id\n      sessions {\n        id\n        createdAt\n        lastUsedAt\n        expiresAt\n        userAgent\n        ipAddress\n        current\n      }\n    }\n  }\n"): (typeof documents)["\n  query MySessions {\n    me {\n      id\n      sessions {\n        id\n        createdAt\n        lastUsedAt\n        expiresAt\n        userAgent\n        ipAddress\n        current\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n"): (typeof documents)["\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      email\n      emailVerified\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      email\n      emailVerified\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AuditEntryFields on AuditLog {\n    id\n    action\n    modelName\n    objectId\n    changes\n    ipAddress\n    createdAt\n    user {\n      id\n      email\n    }\n  }\n"): (typeof documents)["\n  fragment AuditEntryFields on AuditLog {\n    id\n    action\n    modelName\n    objectId\n    changes\n    ipAddress\n    createdAt\n    user {\n      id\n      email\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditLogs($first: Int, $after: String, $last: Int, $before: String, $filter: AuditLogFilter) {\n    auditLogs(first: $first, after: $after, last: $last, before: $before, filter: $filter) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          ...AuditEntryFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AuditLogs($first: Int, $after: String, $last: Int, $before: String, $filter: AuditLogFilter) {\n    auditLogs(first: $first, after: $after, last: $last, before: $before, filter: $filter) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          ...AuditEntryFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription AuditLogAdded($filter: AuditLogFilter) {\n    auditLogAdded(filter: $filter) {\n      ...AuditEntryFields\n    }\n  }\n"): (typeof documents)["\n  subscription AuditLogAdded($filter: AuditLogFilter) {\n    auditLogAdded(filter: $filter) {\n      ...AuditEntryFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StaffUsers(\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $filter: UserFilter\n    $orderBy: UserOrder\n  ) {\n    users(\n      first: $first\n      after: $after\n      last: $last\n      before: $before\n      filter: $filter\n      orderBy: $orderBy\n    ) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          email\n          username\n          firstName\n          lastName\n          isActive\n          isStaff\n          emailVerified\n          dateJoined\n          lastLogin\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query StaffUsers(\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $filter: UserFilter\n    $orderBy: UserOrder\n  ) {\n    users(\n      first: $first\n      after: $after\n      last: $last\n      before: $before\n      filter: $filter\n      orderBy: $orderBy\n    ) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          email\n          username\n          firstName\n          lastName\n          isActive\n          isStaff\n          emailVerified\n          dateJoined\n          lastLogin\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeactivateUser($id: ID!) {\n    deactivateUser(id: $id) {\n      id\n      isActive\n    }\n  }\n"): (typeof documents)["\n  mutation DeactivateUser($id: ID!) {\n    deactivateUser(id: $id) {\n      id\n      isActive\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReactivateUser($id: ID!) {\n    reactivateUser(id: $id) {\n      id\n      isActive\n    }\n  }\n"): (typeof documents)["\n  mutation ReactivateUser($id: ID!) {\n    reactivateUser(id: $id) {\n      id\n      isActive\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;