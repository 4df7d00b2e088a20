import { graphql } from "../gql";

export const ViewerFields = graphql(`
  fragment ViewerFields on User {
    id
    email
    username
    firstName
    lastName
    isStaff
    emailVerified
  }
`);

export const AuthPayloadFields = graphql(`
  fragment AuthPayloadFields on AuthPayload {
    accessToken
    accessTokenExpiresAt
    user {
      ...ViewerFields
    }
  }
`);

/** The signed-in user, as the header and the guards need it. */
export const ViewerQuery = graphql(`
  query Viewer {
    me {
      ...ViewerFields
    }
  }
`);

export const RefreshMutation = graphql(`
  mutation Refresh {
    refresh {
      ...AuthPayloadFields
    }
  }
`);

export const LoginMutation = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      ...AuthPayloadFields
    }
  }
`);

export const RegisterMutation = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      ...AuthPayloadFields
    }
  }
`);

export const LogoutMutation = graphql(`
  mutation Logout($everywhere: Boolean!) {
    logout(everywhere: $everywhere)
  }
`);
