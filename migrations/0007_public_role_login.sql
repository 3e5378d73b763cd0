-- Public requests log in AS hotspot_public rather than switching to it
-- with SET ROLE: a session that logged in as the main user can always
-- switch back (SET ROLE NONE), so a SQL-injection-class bug in a public
-- handler could have escaped the role. A session whose login user is
-- hotspot_public has no other role to switch to.
--
-- Roles are cluster-wide and ALTER ROLE needs CREATEROLE: on a server
-- where we lack it, the role stays NOLOGIN and geo/anon falls back to SET
-- ROLE (and says so in its log line).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hotspot_public' AND NOT rolcanlogin) THEN
        BEGIN
            ALTER ROLE hotspot_public LOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'could not let hotspot_public log in: public requests will use SET ROLE';
        END;
    END IF;
END
$$;
