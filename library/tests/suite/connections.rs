//! Migrating on a connection the application owns, then using that connection.

use strata::engine::dialect::driver::Driver;
use strata::Migrator;
use strata_testkit::db::{block_on, Kind, TestDb};

use crate::MIGRATIONS;

#[test]
fn on_the_applications_rusqlite_connection() {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("app.sqlite3")).unwrap();
    let migrator = Migrator::from_embedded(&MIGRATIONS).unwrap();
    let conn = block_on(async {
        let mut driver = strata::sqlite::SqliteDriver::from_connection(conn).unwrap();
        let report = migrator.run_on(&mut driver).await.unwrap();
        assert_eq!(report.steps.len(), 2, "{report:?}");
        assert!(migrator.run_on(&mut driver).await.unwrap().is_empty());
        driver.into_connection()
    });
    // The application's connection, back, sees the migrated schema and data.
    let slug: String = conn
        .query_row(
            "SELECT slug FROM shop_product WHERE title = 'Green Teapot'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(slug, "green-teapot");
    conn.execute(
        "INSERT INTO shop_product (title, slug) VALUES ('Cup', 'cup')",
        [],
    )
    .unwrap();
}

#[test]
fn on_the_applications_tokio_postgres_client() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    block_on(async {
        let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let task = tokio::spawn(connection);
        let migrator = Migrator::from_embedded(&MIGRATIONS).unwrap();
        {
            let mut driver = strata::postgres::PostgresDriver::on_client(&client)
                .await
                .unwrap();
            let report = migrator.run_on(&mut driver).await.unwrap();
            assert_eq!(report.steps.len(), 2, "{report:?}");
            let status = migrator.status_on(&mut driver).await.unwrap();
            assert!(status.is_up_to_date(), "{status:?}");
            Box::new(driver).close().await.unwrap();
        }
        // The client is still the application's, open, on the migrated schema.
        let row = client
            .query_one(
                "SELECT slug FROM shop_product WHERE title = $1",
                &[&"Red Kettle"],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "red-kettle");
        client
            .execute("INSERT INTO shop_product (title) VALUES ('Cup')", &[])
            .await
            .unwrap();
        drop(client);
        task.await.unwrap().unwrap();
    });
}

#[test]
fn on_the_applications_mysql_async_connection() {
    let Some(db) = TestDb::create(Kind::Mariadb) else {
        return;
    };
    block_on(async {
        use mysql_async::prelude::Queryable;
        let pool = mysql_async::Pool::from_url(db.url.as_str()).unwrap();
        let conn = pool.get_conn().await.unwrap();
        let migrator = Migrator::from_embedded(&MIGRATIONS).unwrap();
        let mut driver = strata::mysql::MysqlDriver::from_conn(conn).await.unwrap();
        let report = migrator.run_on(&mut driver).await.unwrap();
        assert_eq!(report.steps.len(), 2, "{report:?}");
        let mut conn = driver.into_conn();
        let slug: Option<String> = conn
            .query_first("SELECT slug FROM shop_product WHERE title = 'Blue Mug'")
            .await
            .unwrap();
        assert_eq!(slug.as_deref(), Some("blue-mug"));
        drop(conn);
        pool.disconnect().await.unwrap();
    });
}
