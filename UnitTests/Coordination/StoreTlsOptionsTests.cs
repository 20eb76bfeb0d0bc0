using System.ComponentModel.DataAnnotations;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Etcd;
using ControlPlane.Etcd.Internal;
using ControlPlane.TestSupport;

namespace ControlPlane.UnitTests.Coordination;

/// <summary><c>Store:Tls:*</c> is validated at start-up: each mistake is a <see cref="ValidationException"/> that names
/// the setting. Certificates are made per test class by <see cref="TestPki"/> in a temporary directory.</summary>
public sealed class StoreTlsOptionsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "cp-tls-unit-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly TestPki _pki;
    private readonly TestPki _other;

    public StoreTlsOptionsTests()
    {
        _pki = TestPki.Create(_directory, "a");
        _other = TestPki.Create(_directory, "b");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Without_a_CA_file_TLS_is_off_and_nothing_is_read()
    {
        var options = new StoreTlsOptions();

        options.Validate();

        Assert.False(options.Enabled);
        Assert.Null(options.Load());
    }

    [Fact]
    public void A_complete_setting_loads_the_CA_and_the_client_certificate_with_its_key()
    {
        var options = new StoreTlsOptions { CaFile = _pki.CaFile, CertFile = _pki.Client.CertFile, KeyFile = _pki.Client.KeyFile, ServerName = "store.test" };

        var material = options.Load();

        Assert.NotNull(material);
        Assert.Single(material.TrustedCertificates);
        Assert.True(material.ClientCertificate!.HasPrivateKey);
        Assert.Equal("store.test", material.ToEtcd().ServerName);
        Assert.Same(material.ClientCertificate, material.ToZooKeeper().ClientCertificate);
    }

    [Fact]
    public void A_CA_alone_is_TLS_without_a_client_certificate()
    {
        var material = new StoreTlsOptions { CaFile = _pki.CaFile }.Load();

        Assert.NotNull(material);
        Assert.Null(material.ClientCertificate);
    }

    [Theory]
    [InlineData("CertFile")]
    [InlineData("KeyFile")]
    [InlineData("ServerName")]
    public void A_setting_without_the_CA_file_is_refused(string setting)
    {
        var options = new StoreTlsOptions();
        typeof(StoreTlsOptions).GetProperty(setting)!.SetValue(options, "x");

        var error = Assert.Throws<ValidationException>(options.Validate);

        Assert.StartsWith($"Store:Tls:{setting} is set but Store:Tls:CaFile is not", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_CA_file_is_named()
    {
        var missing = Path.Combine(_directory, "nope.crt");

        var error = Assert.Throws<ValidationException>(new StoreTlsOptions { CaFile = missing }.Validate);

        Assert.Equal($"Store:Tls:CaFile: the file '{missing}' does not exist.", error.Message);
    }

    [Fact]
    public void A_CA_file_without_a_certificate_is_refused()
    {
        var error = Assert.Throws<ValidationException>(new StoreTlsOptions { CaFile = _pki.Client.KeyFile }.Validate);

        Assert.StartsWith("Store:Tls:CaFile: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("holds no PEM certificate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_certificate_without_its_key_is_refused_and_so_is_a_key_without_its_certificate()
    {
        var noKey = Assert.Throws<ValidationException>(new StoreTlsOptions { CaFile = _pki.CaFile, CertFile = _pki.Client.CertFile }.Validate);
        var noCert = Assert.Throws<ValidationException>(new StoreTlsOptions { CaFile = _pki.CaFile, KeyFile = _pki.Client.KeyFile }.Validate);

        Assert.Equal("Store:Tls:CertFile needs Store:Tls:KeyFile, the file of its private key.", noKey.Message);
        Assert.Equal("Store:Tls:KeyFile needs Store:Tls:CertFile, the certificate of that key.", noCert.Message);
    }

    [Fact]
    public void A_key_that_is_not_the_certificates_is_refused()
    {
        var options = new StoreTlsOptions { CaFile = _pki.CaFile, CertFile = _pki.Client.CertFile, KeyFile = _other.Client.KeyFile };

        var error = Assert.Throws<ValidationException>(options.Validate);

        Assert.Equal(
            $"Store:Tls:KeyFile: '{_other.Client.KeyFile}' is not the private key of the certificate in Store:Tls:CertFile '{_pki.Client.CertFile}'.",
            error.Message);
    }

    [Fact]
    public void A_key_file_without_a_key_is_refused()
    {
        var options = new StoreTlsOptions { CaFile = _pki.CaFile, CertFile = _pki.Client.CertFile, KeyFile = _pki.Client.CertFile };

        var error = Assert.Throws<ValidationException>(options.Validate);

        Assert.StartsWith($"Store:Tls:KeyFile: '{_pki.Client.CertFile}' holds no PEM private key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_blank_server_name_is_refused()
    {
        var error = Assert.Throws<ValidationException>(new StoreTlsOptions { CaFile = _pki.CaFile, ServerName = " " }.Validate);

        Assert.StartsWith("Store:Tls:ServerName must not be blank", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_store_options_validate_their_TLS_settings()
    {
        var options = new StoreOptions { Tls = new StoreTlsOptions { CaFile = Path.Combine(_directory, "gone.crt") } };

        var error = Assert.Throws<ValidationException>(options.Validate);

        Assert.StartsWith("Store:Tls:CaFile: the file ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_etcd_client_with_TLS_dials_https_and_refuses_a_cleartext_endpoint()
    {
        var tls = new EndpointSet("127.0.0.1:2379,https://127.0.0.1:22379", tls: true);

        Assert.All(tls.All, e => Assert.Equal(Uri.UriSchemeHttps, e.Scheme));
        Assert.Throws<ArgumentException>(() => new EndpointSet("http://127.0.0.1:2379", tls: true));
        Assert.Throws<ArgumentException>(() => new EndpointSet("https://127.0.0.1:2379", tls: false));
        Assert.Equal(Uri.UriSchemeHttp, new EndpointSet("127.0.0.1:2379").Current.Scheme);
    }

    [Fact]
    public void A_client_certificate_without_its_private_key_is_refused_by_both_clients()
    {
        using var bare = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(_pki.Client.CertFile));

        Assert.Throws<ArgumentException>(() => new EtcdClient(new EtcdClientOptions { Endpoints = "127.0.0.1:1", Tls = new EtcdTlsOptions { ClientCertificate = bare } }));
        Assert.Throws<ArgumentException>(() => new ControlPlane.ZooKeeper.ZooKeeperClientOptions
        {
            ConnectionString = "127.0.0.1:1",
            Tls = new ControlPlane.ZooKeeper.ZooKeeperTlsOptions { ClientCertificate = bare },
        }.Validate());
    }
}
